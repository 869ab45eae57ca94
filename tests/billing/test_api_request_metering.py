"""`api_requests` measured by the platform: the API requests a store's host serves are counted in Redis by a
middleware and recorded as usage by the flush task, each once: never another store's, never the root
host's, none lost or counted twice when a flush dies or is replayed (real Redis, PostgreSQL and Celery)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from billing import api_metering
from billing.models import UsageEvent
from billing.services import USAGE_RECORDING_LOCK
from billing.tasks import flush_api_request_counts
from tests.conftest import purge_broker, sessions_waiting_for_my_locks, store_api, wait_for

pytestmark = pytest.mark.django_db


def serve(store, count: int, path: str = "/api/v1/billing/subscription") -> None:
    """``count`` API requests the store's host answers (200) for its owner."""
    api = store_api(store.tenant.slug, store.token)
    for _ in range(count):
        assert api.get(path).status_code == 200


def api_requests_recorded() -> dict[int, list[int]]:
    """Each store's recorded `api_requests` events' quantities, in the order recorded."""
    recorded: dict[int, list[int]] = {}
    for tenant_id, quantity in (
        UsageEvent.objects.filter(metric="api_requests").order_by("pk").values_list("tenant_id", "quantity")
    ):
        recorded.setdefault(tenant_id, []).append(quantity)
    return recorded


@pytest.mark.usefixtures("committed_tenancy")
def test_each_stores_api_requests_are_counted_and_recorded_by_the_flush_task(bakery, pottery, root_api, celery_worker):
    # Given API requests served on two stores' hosts, and requests that are not a store's API use
    serve(bakery, 5)
    serve(bakery, 2, "/api/v1/billing/invoices")
    serve(pottery, 3)
    assert store_api("bakery").get("/api/v1/billing/subscription").status_code == 401  # refused: not billed
    assert store_api("bakery").get("/").status_code == 200  # a page, not the API
    for _ in range(4):
        assert root_api.get("/api/v1/plans").status_code == 200  # the root host: no store's

    # When the beat's flush task runs on a real worker
    flush_api_request_counts.delay()
    with celery_worker():
        wait_for(api_requests_recorded, what="the flush")

    # Then each store is billed exactly its own requests, in one event each, and nothing is left counted
    assert api_requests_recorded() == {bakery.tenant.pk: [7], pottery.tenant.pk: [3]}
    assert api_metering.counted_so_far() == {}
    usage = store_api("bakery", bakery.token).get("/api/v1/billing/usage").json()
    assert {row["metric"]: row["quantity"] for row in usage["metrics"]}["api_requests"] == 7


def test_requests_after_a_flush_go_to_the_next_window(bakery):
    serve(bakery, 2)
    assert api_metering.flush_api_request_counts() == 1
    serve(bakery, 3)

    assert api_metering.counted_so_far() == {bakery.tenant.pk: 3}
    assert api_metering.flush_api_request_counts() == 1
    assert api_metering.flush_api_request_counts() == 0  # nothing counted since

    assert api_requests_recorded() == {bakery.tenant.pk: [2, 3]}
    keys = list(UsageEvent.objects.filter(metric="api_requests").values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 2 and all(key.startswith("api-requests-") for key in keys)


def test_a_flush_that_died_after_taking_the_counts_loses_nothing(bakery, pottery):
    # Given counts taken by a flush whose worker died before recording them
    serve(bakery, 4)
    serve(pottery, 1)
    taken = api_metering.take_counts()
    assert taken is not None and taken.counts == {bakery.tenant.pk: 4, pottery.tenant.pk: 1}
    # ... and requests served after that
    serve(bakery, 2)

    # When the next flush runs
    assert api_metering.flush_api_request_counts() == 2

    # Then it recorded the dead flush's window first, then the requests since: each request once
    assert api_requests_recorded() == {bakery.tenant.pk: [4, 2], pottery.tenant.pk: [1]}
    assert api_metering.take_counts() is None


def test_a_flush_that_died_after_recording_is_replayed_harmlessly(bakery):
    # Given a flush that recorded its window and died before clearing it from Redis
    serve(bakery, 6)
    window = api_metering.take_counts()
    assert window is not None
    assert api_metering.record_counts(window) == 1

    # When the next flush runs (twice, as a redelivered task would)
    assert api_metering.flush_api_request_counts() == 1
    assert api_metering.flush_api_request_counts() == 0

    # Then the window was recorded again under the same key: a duplicate, nothing added
    assert api_requests_recorded() == {bakery.tenant.pk: [6]}


def test_two_flushes_at_once_record_the_window_once(bakery):
    serve(bakery, 5)

    first, second = api_metering.take_counts(), api_metering.take_counts()
    assert first is not None and second is not None
    assert (first.window_id, first.counts) == (second.window_id, second.counts)  # the same pending window
    assert (api_metering.record_counts(first), api_metering.record_counts(second)) == (1, 0)
    assert (api_metering.clear_counts(first), api_metering.clear_counts(second)) == (True, False)

    assert api_requests_recorded() == {bakery.tenant.pk: [5]}


def test_requests_are_served_while_redis_is_down_and_counted_once_it_is_back(bakery, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    api_metering._client.cache_clear()
    try:
        serve(bakery, 2)  # served all the same
        assert api_metering.push_local_counts() == 0  # kept in the process for the next push
    finally:
        settings.REDIS_URL = os.environ["REDIS_URL"]
        api_metering._client.cache_clear()

    assert api_metering.counted_so_far() == {bakery.tenant.pk: 2}


def _counting_hash() -> dict[int, int]:
    """Redis's counting hash as it is, without pushing this process's counts first."""
    raw = api_metering._client().hgetall(api_metering._keys()[0])
    return {int(field): int(value) for field, value in raw.items()}


def test_a_web_process_pushes_its_counts_to_redis_by_itself(bakery, settings):
    # Counting costs the request no round trip: the counts reach Redis from the process's pusher thread
    settings.USAGE_COUNT_PUSH_SECONDS = 0.2
    serve(bakery, 3)
    assert wait_for(lambda: _counting_hash() == {bakery.tenant.pk: 3}, what="the pusher thread")


def test_a_process_that_exits_pushes_what_it_counted(bakery):
    # A web process stopped gracefully (gunicorn's stop or recycling) hands over its last counts
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings; settings.USAGE_COUNT_PUSH_SECONDS = 3600\n"
        "from billing import api_metering\n"
        f"for _ in range(5): api_metering.count_api_request({bakery.tenant.pk})\n"
    )
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "-c", script], cwd=Path(settings.BASE_DIR), env=env, check=True, timeout=60)
    assert _counting_hash() == {bakery.tenant.pk: 5}


def test_without_redis_nothing_is_counted_or_flushed(bakery, settings):
    settings.REDIS_URL = ""

    serve(bakery, 2)

    assert api_metering.flush_api_request_counts() == 0
    settings.REDIS_URL = os.environ["REDIS_URL"]
    assert api_metering.counted_so_far() == {}
    assert not UsageEvent.objects.exists()


def _database_url() -> str:
    params = connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


def _session_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        # Inside the test's transaction pg_stat_activity is a snapshot taken at its first read: drop it, or
        # a session still ending at that read would look alive for the rest of the transaction.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
        return bool(cursor.fetchone()[0])


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy")
def test_a_worker_killed_between_taking_and_recording_the_counts_loses_nothing(bakery):
    # Given 6 API requests counted, and a real worker flushing them, held by the test at the moment it
    # records them (it waits for the usage recording lock, which the test holds exclusively)
    serve(bakery, 6)
    purge_broker()
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [USAGE_RECORDING_LOCK])
        flush_api_request_counts.delay()
        worker = subprocess.Popen(command, cwd=Path(settings.BASE_DIR), env=env)
        try:
            # When the worker is killed (SIGKILL) there: the counts taken from Redis, nothing recorded
            (flush_session,) = wait_for(sessions_waiting_for_my_locks, what="the flush to reach its recording")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [flush_session])
            wait_for(lambda: _session_gone(flush_session), what="the killed worker's session to end")
        finally:
            worker.kill()
            worker.wait(timeout=10)
    assert not UsageEvent.objects.filter(metric="api_requests").exists()
    assert api_metering.counted_so_far() == {}  # taken by the dead flush: only its pending window holds them
    serve(bakery, 4)  # more requests meanwhile

    # Then the next flush records the dead flush's window and the requests since, each request once
    assert api_metering.flush_api_request_counts() == 2
    assert api_metering.flush_api_request_counts() == 0
    assert api_requests_recorded() == {bakery.tenant.pk: [6, 4]}
