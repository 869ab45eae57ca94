"""Closing billing periods: each period is invoiced exactly once (run twice, concurrently, by a real
worker, after a crash), invoices are numbered without gaps, carry the rated usage and pending
prorations, come with a real PDF, and are collected by the local provider."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.db import connection, connections, transaction
from django.utils import timezone
from pypdf import PdfReader

from billing import invoicing
from billing.models import Invoice, InvoiceItem, InvoiceNumberSequence, Subscription
from billing.services import change_plan, close_billing_period, record_usage
from tests.billing.conftest import period_ended
from tests.conftest import store_api

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(make_store):
    return make_store(subdomain="bakery", email="baker@example.com")


def test_closing_an_ended_period_invoices_its_usage_and_starts_the_next(store, django_capture_on_commit_callbacks):
    # Given a Starter store whose period has ended with 60 orders and £450.25 of sales in it
    subscription, at = period_ended(store.tenant)
    old_end = subscription.current_period_end
    during = subscription.current_period_start + timedelta(days=3)
    record_usage(store.tenant.pk, "orders", 60, idempotency_key="o", occurred_at=during)
    record_usage(store.tenant.pk, "gmv", 45_025, idempotency_key="g", occurred_at=during)
    record_usage(store.tenant.pk, "orders", 999, idempotency_key="later", occurred_at=old_end + timedelta(seconds=1))

    # When the period is closed
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)

    # Then one invoice bills next period's fee and this period's usage (not the later orders)
    invoice.refresh_from_db()
    assert invoice.number == f"LB-{at.year}-000001"
    assert (invoice.period_start, invoice.period_end) == (subscription.current_period_start, old_end)
    lines = {(item.kind, item.metric): item.amount for item in invoice.items.all()}
    assert lines[("flat_fee", "")] == 900
    assert lines[("usage", "orders")] == 200  # 10 over the 50 included, at 20p
    assert lines[("usage", "gmv")] == 901
    assert invoice.total == 900 + 200 + 901 == sum(lines.values())
    # ...collected at once by the local provider
    assert (invoice.status, invoice.collection_attempts, invoice.paid_at) == ("paid", 1, at)
    # ...and the subscription moved on to the next period
    subscription.refresh_from_db()
    assert subscription.current_period_start == old_end
    assert subscription.current_period_end > old_end
    assert subscription.status == "active"


def test_a_period_is_closed_once_however_often_the_close_runs(store, django_capture_on_commit_callbacks):
    subscription, at = period_ended(store.tenant)

    with django_capture_on_commit_callbacks(execute=True):
        first = close_billing_period(subscription, at)
        again = close_billing_period(subscription, at)
        swept = invoicing.close_due_periods(at)

    assert first is not None
    assert again is None
    assert swept == 0
    assert Invoice.objects.filter(tenant=store.tenant).count() == 1
    assert InvoiceNumberSequence.objects.get(year=at.year).last_number == 1


def test_a_period_still_running_is_not_closed(store):
    subscription = Subscription.objects.get(tenant=store.tenant)

    assert close_billing_period(subscription, timezone.now()) is None
    assert invoicing.close_due_periods(timezone.now()) == 0
    assert not Invoice.objects.exists()
    assert not InvoiceNumberSequence.objects.exists()


def test_the_database_refuses_a_second_invoice_for_a_period(store, django_capture_on_commit_callbacks):
    from django.db import IntegrityError

    subscription, at = period_ended(store.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            tenant=store.tenant,
            subscription=subscription,
            number="LB-DUPLICATE",
            currency="GBP",
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            subtotal=0,
            total=0,
        )


def test_pending_prorations_are_billed_on_the_next_invoice_once(store, django_capture_on_commit_callbacks):
    # Given an upgrade halfway through the period (its proration pending)
    subscription, at = period_ended(store.tenant, days_ago=-15)  # ends in 15 days
    change_plan(store.tenant, "growth")
    pending = list(InvoiceItem.objects.filter(subscription=subscription, invoice=None))
    assert len(pending) == 2
    subscription, at = period_ended(store.tenant)

    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)

    # Then the invoice takes the prorations up (not copies of them) and bills Growth's fee
    assert set(invoice.items.filter(kind="proration").values_list("pk", flat=True)) == {item.pk for item in pending}
    assert invoice.items.get(kind="flat_fee").amount == 2_900
    assert not InvoiceItem.objects.filter(subscription=subscription, invoice=None).exists()
    assert invoice.total == sum(invoice.items.values_list("amount", flat=True))


def test_invoice_numbers_run_without_gaps_across_stores(make_store, django_capture_on_commit_callbacks):
    stores = [make_store() for _ in range(3)]
    moments = []
    for store in stores:
        subscription, at = period_ended(store.tenant)
        moments.append(at)
    at = max(moments)

    with django_capture_on_commit_callbacks(execute=True):
        assert invoicing.close_due_periods(at) == 3

    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"LB-{at.year}-{n:06d}" for n in (1, 2, 3)]


def test_a_failed_close_gives_its_number_back(store, make_store, django_capture_on_commit_callbacks, monkeypatch):
    # Given a close that fails after taking a number
    subscription, at = period_ended(store.tenant)
    real_bulk_create = InvoiceItem.objects.bulk_create

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(InvoiceItem.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        close_billing_period(subscription, at)
    monkeypatch.setattr(InvoiceItem.objects, "bulk_create", real_bulk_create)

    # Then nothing of it is left, and the next invoice takes the number it had taken
    assert not Invoice.objects.exists()
    subscription.refresh_from_db()
    assert subscription.current_period_end < at
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)
    assert invoice.number == f"LB-{at.year}-000001"


def test_a_store_several_periods_behind_gets_one_invoice_per_period(store, django_capture_on_commit_callbacks):
    subscription, _ = period_ended(store.tenant, days_ago=70, length_days=30)  # 70 days behind
    at = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        closed = invoicing.close_due_periods(at)

    invoices = list(Invoice.objects.filter(tenant=store.tenant).order_by("period_start"))
    assert closed == len(invoices) >= 3
    for earlier, later in zip(invoices, invoices[1:], strict=False):
        assert earlier.period_end == later.period_start  # contiguous, none twice
    subscription.refresh_from_db()
    assert subscription.current_period_end > at


# --- The PDF -------------------------------------------------------------------------------------


def test_the_invoice_pdf_is_a_real_pdf_with_the_total_served_to_the_owner_only(
    store, make_store, django_capture_on_commit_callbacks
):
    subscription, at = period_ended(store.tenant)
    record_usage(store.tenant.pk, "orders", 75, idempotency_key="o", occurred_at=subscription.current_period_start)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)
    invoice.refresh_from_db()
    assert invoice.pdf.startswith(f"billing/invoices/{store.tenant.pk}/")

    listed = store_api("bakery", store.token).get("/api/v1/billing/invoices").json()["results"][0]
    response = store_api("bakery", store.token).get(listed["pdf_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert invoice.number in text
    assert "£14.00" in text  # £9 fee + 25 orders at 20p
    assert invoice.total == 1_400
    # Another store's owner asking for this number on their own host finds nothing
    other = make_store()
    assert store_api(other.tenant.slug, other.token).get(listed["pdf_url"]).status_code == 404
    # ...and their token is no account on this host
    assert store_api("bakery", other.token).get(listed["pdf_url"]).status_code == 401


# --- Sweeps: concurrent, a real worker, after a crash --------------------------------------------


@pytest.mark.usefixtures("committed_tenancy")
def test_concurrent_sweeps_close_each_period_once(make_store):
    stores = [make_store() for _ in range(6)]
    at = max(period_ended(store.tenant)[1] for store in stores)
    barrier = threading.Barrier(3)
    results: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(invoicing.close_due_periods(at, batch_size=2))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(results) == 6
    assert Invoice.objects.count() == 6
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [f"LB-{at.year}-{n:06d}" for n in range(1, 7)]
    assert set(Invoice.objects.values_list("status", flat=True)) == {"paid"}


def wait_until(predicate, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.usefixtures("committed_tenancy")
def test_a_worker_closes_due_periods_and_a_second_run_adds_nothing(make_store, celery_worker):
    from billing.tasks import close_due_periods

    store = make_store()
    _, at = period_ended(store.tenant)
    closed: dict[str, object] = {}  # task id -> how many periods it closed, as the worker finishes each

    def finished(task_id: str, retval: object, **kwargs: object) -> None:
        closed[task_id] = retval

    task_postrun.connect(finished, weak=False)
    try:
        with celery_worker():
            first = close_due_periods.delay(at.isoformat()).id
            wait_until(lambda: first in closed)
            again = [close_due_periods.delay(at.isoformat()).id for _ in range(2)]
            wait_until(lambda: all(task_id in closed for task_id in again))
    finally:
        task_postrun.disconnect(finished)

    assert [closed[task_id] for task_id in (first, *again)] == [1, 0, 0]
    assert Invoice.objects.count() == 1
    invoice = Invoice.objects.get()
    assert invoice.pdf and invoice.status == "paid" and invoice.collection_attempts == 1


@pytest.mark.usefixtures("committed_tenancy")
def test_a_sweep_finishes_invoices_a_crashed_run_left_behind(make_store):
    # Given a close that committed its invoice, and a worker that died before the PDF and collection
    store = make_store()
    subscription, at = period_ended(store.tenant)
    with transaction.atomic():
        invoice = invoicing._close_locked(Subscription.objects.select_for_update().get(pk=subscription.pk), at)
    assert (invoice.pdf, invoice.status, invoice.collection_attempts) == ("", "open", 0)

    # When the next sweep runs
    closed = invoicing.close_due_periods(at)

    # Then it closes nothing again, and finishes the invoice
    assert closed == 0
    invoice.refresh_from_db()
    assert invoice.pdf and (invoice.status, invoice.collection_attempts) == ("paid", 1)
    assert Invoice.objects.count() == 1
    assert connection.schema_name == "public"
