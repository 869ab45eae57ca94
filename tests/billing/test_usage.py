"""Usage metering: idempotent recording, aggregation over the current period, the projected invoice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from billing.errors import BillingError
from billing.models import Plan, Subscription, UsageEvent
from billing.rating import compute_invoice
from billing.selectors import projected_invoice, usage_in_period
from billing.services import record_usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(make_store):
    """A Growth store: orders 500 included then 10p/5p graduated, GMV 1.5 %, API 100,000 included then
    100p per 50,000, storage 10 GB included then 40p per GB."""
    return make_store(plan="growth")


# --- Recording -----------------------------------------------------------------------------------


def test_a_replayed_event_is_recorded_once(store):
    first = record_usage(store.tenant.pk, "orders", 1, idempotency_key="order-1001")

    again = record_usage(store.tenant.pk, "orders", 1, idempotency_key="order-1001")

    assert first.created and not again.created
    assert again.event_id == first.event_id
    assert UsageEvent.objects.count() == 1


def test_a_key_reused_for_different_usage_is_refused_and_changes_nothing(store):
    record_usage(store.tenant.pk, "gmv", 2_500, idempotency_key="order-1001-gmv")

    with pytest.raises(BillingError) as refused:
        record_usage(store.tenant.pk, "gmv", 9_999, idempotency_key="order-1001-gmv")

    assert refused.value.code == "idempotency_key_reused"
    assert list(UsageEvent.objects.values_list("quantity", flat=True)) == [2_500]


def test_idempotency_keys_belong_to_one_store(make_store):
    alpha, beta = make_store(), make_store()

    assert record_usage(alpha.tenant.pk, "orders", 1, idempotency_key="order-1").created
    assert record_usage(beta.tenant.pk, "orders", 1, idempotency_key="order-1").created


@pytest.mark.parametrize(
    ("metric", "quantity", "key", "occurred_in", "code"),
    [
        ("bandwidth", 1, "k", timedelta(0), "unknown_metric"),
        ("orders", -1, "k", timedelta(0), "bad_quantity"),
        ("orders", 1.5, "k", timedelta(0), "bad_quantity"),
        ("orders", 1, "", timedelta(0), "bad_idempotency_key"),
        ("orders", 1, "k" * 101, timedelta(0), "bad_idempotency_key"),
        ("orders", 1, "k", timedelta(minutes=6), "usage_in_future"),
    ],
)
def test_bad_usage_is_refused_and_nothing_is_recorded(store, metric, quantity, key, occurred_in, code):
    with pytest.raises(BillingError) as refused:
        record_usage(store.tenant.pk, metric, quantity, idempotency_key=key, occurred_at=timezone.now() + occurred_in)

    assert refused.value.code == code
    assert not UsageEvent.objects.exists()


def test_late_usage_is_kept_for_the_period_it_happened_in(store):
    yesterday = timezone.now() - timedelta(days=40)

    assert record_usage(store.tenant.pk, "orders", 3, idempotency_key="late", occurred_at=yesterday).created

    assert UsageEvent.objects.get().occurred_at == yesterday


@pytest.mark.usefixtures("committed_tenancy")
def test_concurrent_replays_of_one_event_record_it_once(make_store):
    tenant_id = make_store().tenant.pk
    barrier = threading.Barrier(6)
    outcomes: list[bool] = []

    def send() -> None:
        try:
            barrier.wait()
            outcomes.append(record_usage(tenant_id, "api_requests", 250, idempotency_key="batch-7").created)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [False] * 5 + [True]
    assert UsageEvent.objects.filter(tenant_id=tenant_id).count() == 1


# --- Aggregation and the projected invoice -------------------------------------------------------


def record(store, metric: str, quantity: int, key: str) -> None:
    record_usage(store.tenant.pk, metric, quantity, idempotency_key=key)  # now: in the current period


def test_each_metric_is_aggregated_its_own_way_within_the_period(store):
    start = timezone.now() - timedelta(hours=1)

    def at(minutes: float, metric: str, quantity: int, key: str) -> None:
        when = start + timedelta(minutes=minutes)
        record_usage(store.tenant.pk, metric, quantity, idempotency_key=key, occurred_at=when)

    at(1, "orders", 1, "o1")
    at(2, "orders", 1, "o2")
    at(1, "gmv", 1_250, "g1")
    at(2, "gmv", 750, "g2")
    at(1, "api_requests", 4_000, "a1")
    at(2, "api_requests", 6_000, "a2")
    at(1, "storage_gb", 12, "s1")  # the peak
    at(2, "storage_gb", 9, "s2")
    # Outside [start, start + 10 minutes): just before, and at the (exclusive) end
    at(-1 / 60, "orders", 100, "before")
    at(10, "orders", 100, "at-end")

    usage = usage_in_period(store.tenant.pk, start, start + timedelta(minutes=10))

    assert usage == {"orders": 2, "gmv": 2_000, "api_requests": 10_000, "storage_gb": 12}


def test_the_projected_invoice_rates_this_periods_usage_with_the_plan(store, django_assert_num_queries):
    record(store, "orders", 600, "orders-batch")
    record(store, "gmv", 1_000_000, "gmv-batch")  # £10,000 of sales
    record(store, "api_requests", 150_001, "api-batch")
    record(store, "storage_gb", 12, "storage-sample")

    with django_assert_num_queries(5):  # subscription and plan, charges, tiers, usage, pending items
        projected = projected_invoice(store.tenant)

    assert projected is not None
    amounts = {line.metric or line.kind: line.amount for line in projected.invoice.lines}
    assert amounts == {
        "flat_fee": 2_900,
        "orders": 1_000,  # 100 over the allowance at 10p
        "gmv": 15_000,  # 1.5 %
        "api_requests": 200,  # 50,001 over: two packages of 50,000
        "storage_gb": 80,  # 2 GB over at 40p
        "tax": 0,
    }
    assert projected.invoice.total == 19_180
    assert projected.invoice == compute_invoice(Plan.objects.get(code="growth").to_rating(), projected.usage)


def test_a_store_without_a_subscription_has_no_projected_invoice(make_store):
    tenant = make_store(tenancy="dedicated").tenant

    assert not Subscription.objects.filter(tenant=tenant).exists()
    assert projected_invoice(tenant) is None


def test_the_tax_placeholder_follows_the_setting(store, settings):
    settings.BILLING_TAX_RATE_BPS = 2_000

    projected = projected_invoice(store.tenant)

    assert projected is not None
    assert (projected.invoice.subtotal, projected.invoice.tax, projected.invoice.total) == (2_900, 580, 3_480)
