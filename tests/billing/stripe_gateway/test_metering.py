"""Usage reported as Billing Meter events: aggregated, identified deterministically, retried, never
counted twice, never dropped (late usage is kept for reconciliation)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.services import record_usage
from billing.stripe_gateway import metering
from billing.stripe_gateway.client import stripe_client
from billing.stripe_gateway.models import MeterReport
from billing.stripe_gateway.services import ensure_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(synced, make_store, settings):
    settings.STRIPE_METER_WINDOW_SECONDS = 60
    settings.STRIPE_METER_GRACE_SECONDS = 5
    store = make_store()
    return store, ensure_customer(store.tenant)


def later():
    """A moment when every window recorded so far is closed."""
    return timezone.now() + timedelta(seconds=130)


def totals(fake, customer_id):
    return {
        name.removeprefix("localbazaar_"): value
        for (cus, name), value in fake.meter_totals().items()
        if cus == customer_id
    }


def test_usage_is_summed_into_few_meter_events_and_reported_once(synced, customer):
    store, customer_id = customer
    for n in range(300):
        record_usage(store.tenant.pk, "orders", 1, idempotency_key=f"order-{n}")
        record_usage(store.tenant.pk, "gmv", 1_250, idempotency_key=f"gmv-{n}")
    record_usage(store.tenant.pk, "storage_gb", 7, idempotency_key="storage-1")
    record_usage(store.tenant.pk, "storage_gb", 4, idempotency_key="storage-2")

    metering.close_windows(later())
    metering.close_windows(later())  # again: nothing new
    first = metering.send_due_reports()
    second = metering.send_due_reports()

    assert totals(synced, customer_id) == {"orders": 300, "gmv": 375_000, "storage_gb": 7}
    assert first.sent == MeterReport.objects.count() <= 6 and second.sent == 0
    assert synced.meter_event_requests == first.sent


def test_an_outage_is_retried_with_backoff_and_nothing_is_lost(synced, customer):
    store, customer_id = customer
    record_usage(store.tenant.pk, "orders", 5, idempotency_key="o1")
    metering.close_windows(later())
    synced.fail_next["/v1/billing/meter_events"] = 100  # every try, the SDK's retries included

    outage = metering.send_due_reports()

    report = MeterReport.objects.get()
    assert (outage.failed, report.state, report.attempts) == (1, "pending", 1)
    assert report.next_attempt_at > timezone.now() and not synced.table("meter_event")
    synced.fail_next.clear()
    MeterReport.objects.update(next_attempt_at=timezone.now())
    assert metering.send_due_reports().sent == 1
    assert totals(synced, customer_id) == {"orders": 5}


def test_a_resend_after_a_crash_is_counted_once_by_stripe(synced, customer):
    store, customer_id = customer
    record_usage(store.tenant.pk, "orders", 9, idempotency_key="o1")
    metering.close_windows(later())
    report = MeterReport.objects.get()
    # A worker sent it and died before its transaction committed: the row is still pending.
    stripe_client().v1.billing.meter_events.create(
        params={
            "event_name": report.event_name,
            "identifier": report.identifier,
            "timestamp": int(report.occurred_at.timestamp()),
            "payload": {"stripe_customer_id": customer_id, "value": "9"},
        }
    )

    assert metering.send_due_reports().sent == 1

    assert synced.duplicate_meter_events == 1
    assert totals(synced, customer_id) == {"orders": 9}
    assert MeterReport.objects.get().state == "sent"


def test_usage_older_than_stripe_accepts_is_kept_for_reconciliation_not_sent(synced, customer, caplog):
    store, customer_id = customer
    record_usage(store.tenant.pk, "orders", 3, idempotency_key="old", occurred_at=timezone.now() - timedelta(days=40))
    record_usage(store.tenant.pk, "orders", 2, idempotency_key="new")

    with caplog.at_level(logging.ERROR):
        metering.close_windows(later())
        outcome = metering.send_due_reports()

    assert outcome.sent == 1
    late = MeterReport.objects.get(state="late")
    assert late.value == 3 and "reconciliation" in caplog.text
    assert totals(synced, customer_id) == {"orders": 2}


def test_usage_of_stores_without_a_stripe_customer_is_not_reported(synced, make_store):
    store = make_store()
    record_usage(store.tenant.pk, "orders", 1, idempotency_key="o1")

    metering.close_windows(later())

    assert not MeterReport.objects.exists() and not synced.table("meter_event")


def test_the_preview_invoice_rates_reported_usage(synced, customer, root_api):
    from tests.billing.stripe_gateway.conftest import deliver_all
    from tests.billing.stripe_gateway.test_checkout_and_webhooks import checkout

    store, customer_id = customer
    session = checkout(store, synced, plan="growth")
    deliver_all(root_api, synced, synced.events)
    record_usage(store.tenant.pk, "orders", 600, idempotency_key="o")
    metering.close_windows(later())
    call_command("report_stripe_usage")

    preview = stripe_client().v1.invoices.create_preview(params={"subscription": session["subscription"]})

    # Growth: £29 fee; 600 orders = 500 included + 100 at 10p.
    assert preview.total == 2_900 + 1_000
    assert Decimal(totals(synced, customer_id)["orders"]) == 600
