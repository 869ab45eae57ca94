"""Batch-ingested usage on its way to Stripe: counted once however often it is resent, and never skipped
by a window closed while it was still being recorded."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from billing.services import record_usage_batch
from billing.stripe_gateway import metering
from billing.stripe_gateway.models import MeterReport
from billing.stripe_gateway.services import ensure_customer
from billing.usage_batches import UsageEventIn

pytestmark = pytest.mark.django_db

URL = "/api/v1/staff/usage-events"  # the platform-internal ingest API


@pytest.fixture
def customer(synced, make_store, settings):
    settings.STRIPE_METER_WINDOW_SECONDS = 60
    settings.STRIPE_METER_GRACE_SECONDS = 5
    store = make_store()
    return store, ensure_customer(store.tenant)


def later():
    return timezone.now() + timedelta(seconds=130)


def orders_reported(fake, customer_id) -> int:
    return int(fake.meter_totals().get((customer_id, "localbazaar_orders"), 0))


def test_usage_ingested_through_the_api_and_resent_is_reported_once(synced, customer, root_api, settings):
    store, customer_id = customer
    settings.USAGE_INGEST_TOKEN = "lbu_ingest"
    root_api.credentials(HTTP_AUTHORIZATION="Bearer lbu_ingest")
    events = [
        {"store": store.tenant.slug, "metric": "orders", "quantity": 1, "idempotency_key": f"order-{n}"}
        for n in range(1_000)
    ]

    assert root_api.post(URL, {"events": events}, format="json").json()["accepted"] == 1_000
    assert root_api.post(URL, {"events": events}, format="json").json()["duplicates"] == 1_000
    record_usage_batch([UsageEventIn(store.tenant.pk, "orders", 1, f"order-{n}") for n in range(500, 1_500)])
    metering.close_windows(later())
    metering.send_due_reports()
    metering.send_due_reports()

    assert orders_reported(synced, customer_id) == 1_500
    assert synced.duplicate_meter_events == 0


def waiting_on_a_lock(pid: int) -> bool:
    """Whether the backend ``pid`` is blocked on an advisory lock right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is snapshotted per transaction
        cursor.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            [pid],
        )
        return cursor.fetchone() is not None


@pytest.mark.usefixtures("committed_tenancy")
def test_a_window_is_not_closed_under_usage_still_being_recorded(synced, customer):
    # Given usage recorded in a transaction that stays open until the test lets it commit
    store, customer_id = customer
    recorded, release = threading.Event(), threading.Event()
    closer_pid: list[int] = []
    failures: list[BaseException] = []

    def slow_sender() -> None:
        try:
            with transaction.atomic():
                record_usage_batch([UsageEventIn(store.tenant.pk, "orders", 7, "slow")])
                recorded.set()
                assert release.wait(30), "never released"
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    def closer() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                closer_pid.append(cursor.fetchone()[0])
            metering.close_windows(later())
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            connections.close_all()

    sender = threading.Thread(target=slow_sender)
    sender.start()
    closing = threading.Thread(target=closer)
    try:
        assert recorded.wait(30)

        # When every window up to past that usage is closed meanwhile
        closing.start()
        deadline = time.monotonic() + 30
        while closing.is_alive() and not (closer_pid and waiting_on_a_lock(closer_pid[0])):
            assert time.monotonic() < deadline, "the closer neither waited nor finished"
            time.sleep(0.02)

        # Then closing waits (on the recording lock) for the usage in flight to commit
        assert closing.is_alive(), f"closing did not wait for the uncommitted usage {failures}"
    finally:
        release.set()
        sender.join()
        if closing.ident is not None:
            closing.join()

    # ...and once it has, the usage is reported, once
    assert not failures
    assert metering.send_due_reports().sent == 1
    assert orders_reported(synced, customer_id) == 7
    assert MeterReport.objects.get().value == 7
