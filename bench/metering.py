"""Metering benchmark: usage in through the real paths, out to (fake) Stripe as meter events.

Sets up stores with real schemas and Stripe customers, then ingests usage events (1 unit each of
`orders` or `api_requests`) through both real paths at once: HTTP clients posting batches of 1,000 (one
store's each) to the platform-internal `POST /api/v1/staff/usage-events` on the root host with the
service token (USAGE_INGEST_TOKEN), served by gunicorn, and an order-hook process calling
billing.services.record_usage_batch. Clients resend some requests (a retry after a timeout) to
exercise idempotency. Meanwhile a real Celery worker (with beat) aggregates usage into meter events and
sends them to the fake Stripe server (tests/fakes/stripe_server); `--kill-worker` SIGKILLs it mid-run
(mid-send) and starts it again. Then it waits until everything is reported and checks the fake's
deduplicated totals against what was ingested, per store and metric.

    make bench-metering                                             # 200,000 events
    make bench-metering BENCH_ARGS="--events 100000 --kill-worker"  # SIGKILL the worker mid-run, restart it

Last line: metering events_per_s=<x> events=<n> reported=<r> duplicates=<d> lost=<l>
(events_per_s: distinct events accepted per second of wall time, from the first request to the last
answer, both paths together; reported: units Stripe counted; duplicates: units counted more than once;
lost: units never counted.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog import free_port, start_gunicorn, stop  # noqa: E402
from bench.fleet import create_fleet, database_url_for, fleet_slug, recreate_database  # noqa: E402

BENCH_DB = os.environ.get("BENCH_DATABASE", "lb_bench_metering")
METRICS = ("orders", "api_requests")
BATCH = 1_000
ROOT_HOST = "localhost"  # PLATFORM_DOMAIN of `make bench-metering`
INGEST_TOKEN = "bench-usage-ingest-token"
RESEND_EVERY = 7  # every 7th batch, if it goes through the API, is sent twice


def chunk_events(chunk: int, stores: int) -> tuple[int, list[tuple[str, str]]]:
    """Chunk ``chunk`` of the run: its store (index) and its events as (metric, idempotency key)."""
    first = chunk * BATCH
    return chunk % stores, [(METRICS[n % 2], f"bench-{n}") for n in range(first, first + BATCH)]


def is_hook_chunk(chunk: int, hook_share: int) -> bool:
    return hook_share > 0 and chunk % hook_share == 0


def post_batches(
    client_no: int, clients: int, chunks: int, stores: int, hook_share: int, port: int, start: Any
) -> None:
    """One HTTP client: its share of the API chunks, keep-alive, every RESEND_EVERY-th sent twice."""
    mine = [c for c in range(chunks) if not is_hook_chunk(c, hook_share)][client_no::clients]
    requests = []
    for chunk in mine:
        store, events = chunk_events(chunk, stores)
        slug = fleet_slug(store + 1)
        rows = [{"store": slug, "metric": metric, "quantity": 1, "idempotency_key": key} for metric, key in events]
        body = json.dumps({"events": rows}).encode()
        requests.append((slug, body))
        if chunk % RESEND_EVERY == 0:
            requests.append((slug, body))
    start.wait()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": ROOT_HOST, "Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
    for slug, body in requests:
        conn.request("POST", "/api/v1/staff/usage-events", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"{slug}: {response.status} {answer[:300]!r}")


def order_hook(chunks: int, stores: int, hook_share: int, tenant_ids: list[int], start: Any) -> None:
    """The order hook's path: record_usage_batch in-process, batches of 1,000."""
    import django

    django.setup()
    from billing.services import record_usage_batch
    from billing.usage_batches import UsageEventIn

    mine = [c for c in range(chunks) if is_hook_chunk(c, hook_share)]
    start.wait()
    for chunk in mine:
        store, events = chunk_events(chunk, stores)
        record_usage_batch([UsageEventIn(tenant_ids[store], metric, 1, key) for metric, key in events])


def start_worker(env: dict[str, str], schedule: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config.celery",
            "worker",
            "-B",
            "--pool=solo",
            "--loglevel=WARNING",
            f"--schedule={schedule}",
        ],
        env=env,
        start_new_session=True,
    )


def wait_until_answering(port: int, process: subprocess.Popen[bytes]) -> None:
    """Polls the root host's plan list: no store's API request, so no `api_requests` usage of the run's own."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/plans", headers={"Host": ROOT_HOST})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def set_up_stores(url: str, stores: int) -> tuple[list[int], dict[int, str]]:
    """Stores with real schemas, a Stripe-collected subscription and customer."""
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from billing.models import Plan, Subscription
    from billing.stripe_gateway.catalog import sync_catalog
    from billing.stripe_gateway.services import ensure_customer
    from tenants import schema_pool
    from tenants.models import Tenant

    print(f"bench database {BENCH_DB}: migrating public and the template schema", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    schema_pool.ensure_template_schema()
    create_fleet(url, schema_pool.template_schema_name(), 1, stores)
    sync_catalog()
    tenants = list(Tenant.objects.filter(slug__startswith="fleet").order_by("slug"))
    now = timezone.now()
    growth = Plan.objects.get(code="growth")
    Subscription.objects.bulk_create(
        Subscription(
            tenant=t,
            plan=growth,
            status="active",
            billing_anchor=now,
            current_period_start=now,
            current_period_end=now + timezone.timedelta(days=30),
            provider="stripe",
        )
        for t in tenants
    )
    customers = {t.pk: ensure_customer(t) for t in tenants}
    connections.close_all()
    return [t.pk for t in tenants], customers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="distinct events (a multiple of 1,000)")
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--clients", type=int, default=3, help="HTTP client processes")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--hook-share", type=int, default=5, help="every Nth batch goes through the order hook (0: none)"
    )
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL the Celery worker mid-run, then restart it")
    parser.add_argument("--drain-timeout", type=float, default=180)
    args = parser.parse_args()
    chunks = args.events // BATCH

    url = database_url_for(BENCH_DB)
    recreate_database(url)
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        STATICFILES_MANIFEST="0",
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX="bench-metering",
        BILLING_PROVIDER="stripe",
        STRIPE_METER_WINDOW_SECONDS="1",
        STRIPE_METER_GRACE_SECONDS="2",
        STRIPE_USAGE_REPORT_SECONDS="0.5",
        STRIPE_METER_BATCH_SIZE="50",
        USAGE_INGEST_TOKEN=INGEST_TOKEN,
    )
    os.environ.setdefault("SECRET_KEY", "bench-only")
    from tests.fakes.stripe_server import FakeStripe

    fake = FakeStripe()
    os.environ.update(STRIPE_API_BASE=fake.start(), STRIPE_SECRET_KEY=fake.api_key)

    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from billing.stripe_gateway.models import MeterReport, MeterWindowCursor

    tenant_ids, customers = set_up_stores(url, args.stores)
    port = free_port()
    web = start_gunicorn("config.settings", port, args.web_workers, {})
    wait_until_answering(port, web)
    schedule = tempfile.mkdtemp(prefix="lb-bench-beat-") + "/schedule"
    env = dict(os.environ)
    worker = start_worker(env, schedule)
    context = multiprocessing.get_context("fork")
    start = context.Event()
    processes = [
        context.Process(target=post_batches, args=(n, args.clients, chunks, args.stores, args.hook_share, port, start))
        for n in range(args.clients)
    ]
    processes.append(context.Process(target=order_hook, args=(chunks, args.stores, args.hook_share, tenant_ids, start)))
    for process in processes:
        process.start()
    time.sleep(3)  # clients build their request bodies, the hook process sets Django up
    started = time.perf_counter()
    start.set()
    worker_ref = [worker]
    kill = args.kill_worker

    def kill_worker_if_sending() -> bool:
        """Pending reports are visible only between the worker's close_windows and send_due_reports
        commits: killing it as soon as some show kills it in the middle of sending them."""
        if not MeterReport.objects.filter(state="pending").exists():
            return False
        os.killpg(worker_ref[0].pid, signal.SIGKILL)
        worker_ref[0].wait()
        at = time.perf_counter() - started
        print(f"worker killed (SIGKILL) {at:.1f}s into the run, while sending; restarting it", file=sys.stderr)
        worker_ref[0] = start_worker(env, schedule)
        return True

    while any(p.is_alive() for p in processes):
        if kill and kill_worker_if_sending():
            kill = False
        time.sleep(0.01 if kill else 0.05)
    ingest_seconds = time.perf_counter() - started
    for process in processes:
        assert process.exitcode == 0, f"an ingesting process failed ({process.exitcode})"
    stop(web)
    events_per_s = chunks * BATCH / ingest_seconds
    resent = sum(1 for c in range(chunks) if not is_hook_chunk(c, args.hook_share) and c % RESEND_EVERY == 0)
    print(
        f"ingested {chunks * BATCH} events in {ingest_seconds:.2f}s ({resent} API batches sent twice)", file=sys.stderr
    )

    # Wait until every window is closed and every report is sent (killing the worker now if it was not yet).
    deadline = time.monotonic() + args.drain_timeout
    last_recorded = timezone.now()
    while time.monotonic() < deadline:
        if kill and kill_worker_if_sending():
            kill = False
        cursor = MeterWindowCursor.objects.first()
        done = cursor is not None and cursor.closed_until > last_recorded
        if not kill and done and not MeterReport.objects.filter(state="pending").exists():
            break
        time.sleep(0.01 if kill else 0.5)
    drained = time.perf_counter() - started - ingest_seconds
    os.killpg(worker_ref[0].pid, signal.SIGTERM)
    worker_ref[0].wait(timeout=30)

    ingested: dict[tuple[int, str], int] = {}
    for chunk in range(chunks):
        store, events = chunk_events(chunk, args.stores)
        for metric, _ in events:
            ingested[(store, metric)] = ingested.get((store, metric), 0) + 1
    totals = fake.meter_totals()
    reported = duplicates = lost = 0
    for (store, metric), count in ingested.items():
        counted = int(totals.get((customers[tenant_ids[store]], f"localbazaar_{metric}"), 0))
        reported += counted
        duplicates += max(0, counted - count)
        lost += max(0, count - counted)
    late = MeterReport.objects.filter(state="late").count()
    connections.close_all()
    print(
        f"reported to Stripe {drained:.1f}s after ingestion ended: meter_events={len(fake.table('meter_event'))} "
        f"requests={fake.meter_event_requests} resends_deduplicated={fake.duplicate_meter_events} late={late}",
        file=sys.stderr,
    )
    fake.stop()
    print(f"reproduce: make bench-metering BENCH_ARGS='{' '.join(sys.argv[1:])}'")
    print(
        f"metering events_per_s={events_per_s:.0f} events={chunks * BATCH} reported={reported} "
        f"duplicates={duplicates} lost={lost}"
    )


if __name__ == "__main__":
    main()
