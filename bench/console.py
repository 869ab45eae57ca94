"""Staff console benchmark: the tenant list (GET /console/ through the middleware, the view and its
templates, logged in as platform staff) over a registry of 20,000 stores.

    .venv/bin/python bench/console.py                      # 20,000 stores (own database, recreated)
    .venv/bin/python bench/console.py --stores 2000 --repeat 20   # quick look

The console reads only the registry, so the stores are registry rows with their hostnames and
subscriptions (bench.fleet.register_registry_fleet), no schemas. Timed: searches (part of an owner's
email, of a name, of a hostname, a word every store has, two letters, nothing found), the first page of
each sort with and without filters, and deep pages (cursors 10,000 and 19,950 rows in). The last line is:
    console search p50_ms=<x> p95_ms=<y> deep_page_p50_ms=<z> stores=<n>
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet import database_url_for, recreate_database, register_registry_fleet  # noqa: E402

SEARCHES = ("owner01234@", "r07654", "calder pottery 15", "reg012345.localhost", "example", "he", "no-such-store")
FIRST_PAGES = (
    {},
    {"sort": "name"},
    {"sort": "status"},
    {"status": "suspended"},
    {"tenancy": "dedicated", "sort": "name"},
    {"past_due": "1"},
    {"plan": "growth", "sort": "status"},
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class SqlClock:
    """Milliseconds spent in the database by the requests it wraps (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - began) * 1000


def timed(client, params: dict[str, str], repeat: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Each request's time in all (middleware, view, templates) and in the database."""
    from django.db import connection

    wall, sql = [], []
    for _ in range(repeat):
        clock = SqlClock()
        began = time.perf_counter()
        with connection.execute_wrapper(clock):
            response = client.get("/console/", params)
        wall.append((time.perf_counter() - began) * 1000)
        sql.append(clock.ms)
        assert response.status_code == 200, response.status_code
    return wall, sql


def report(name: str, samples: tuple[list[float], list[float]]) -> None:
    wall, sql = samples
    print(
        f"  {name:12} n={len(wall):4} p50={statistics.median(wall):6.1f} ms p95={percentile(wall, 0.95):6.1f} ms"
        f"   in SQL p50={statistics.median(sql):5.1f} ms p95={percentile(sql, 0.95):5.1f} ms",
        file=sys.stderr,
    )


def combined(runs: list[tuple[list[float], list[float]]]) -> tuple[list[float], list[float]]:
    return [ms for wall, _ in runs for ms in wall], [ms for _, sql in runs for ms in sql]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=40, help="timed requests of each kind (after a warm-up)")
    parser.add_argument("--database", default="lb_bench_console", help="recreated for the run")
    args = parser.parse_args()

    url = database_url_for(args.database)
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STATICFILES_MANIFEST", "0")
    os.environ.setdefault("PLATFORM_DOMAIN", "localhost")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tenants import console_list
    from tenants.accounts.models import User
    from tenants.models import Tenant
    from tenants.permissions import grant_platform_role

    print(f"bench database {args.database}: migrating public", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    started = time.perf_counter()
    register_registry_fleet(args.stores)
    with connection.cursor() as cursor:
        # A registry that grew one signup at a time has its trigram indexes merged by autovacuum; a bulk
        # insert leaves 20,000 rows in their pending lists, which the planner rightly avoids until then.
        cursor.execute("VACUUM ANALYZE")
    print(f"registered {args.stores} stores in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    staff = User.objects.create_superuser("staff@bench.example.com", "Quiet-harbour-lanterns-42")
    grant_platform_role(staff, "operator")
    client = Client(HTTP_HOST=os.environ["PLATFORM_DOMAIN"])
    client.force_login(staff)

    def cursor_at(depth: int, sort: str = "newest") -> str:
        keys = console_list.SORTS[sort]
        order = [f"-{name}" if keys.descending else name for name in keys.fields]
        row = Tenant.objects.order_by(*order)[min(depth, args.stores - 1) - 1]
        return console_list.make_cursor(sort, row)

    deep = [
        {"after": cursor_at(10_000)},
        {"after": cursor_at(args.stores - 50)},
        {"sort": "name", "after": cursor_at(10_000, "name")},
    ]
    for params in [{"q": q} for q in SEARCHES] + list(FIRST_PAGES) + deep:
        timed(client, params, 3)  # warm-up
    samples = {
        "search": combined([timed(client, {"q": q}, args.repeat) for q in SEARCHES]),
        "first page": combined([timed(client, params, args.repeat) for params in FIRST_PAGES]),
        "deep page": combined([timed(client, params, args.repeat) for params in deep]),
    }
    for name, values in samples.items():
        report(name, values)
    for q in SEARCHES:
        report(f"q={q[:10]}", timed(client, {"q": q}, args.repeat))
    print(
        f"reproduce: DATABASE_URL=... .venv/bin/python bench/console.py --stores {args.stores} --repeat {args.repeat}",
        file=sys.stderr,
    )
    print(
        f"console search p50_ms={statistics.median(samples['search'][0]):.1f} "
        f"p95_ms={percentile(samples['search'][0], 0.95):.1f} "
        f"deep_page_p50_ms={statistics.median(samples['deep page'][0]):.1f} stores={args.stores}"
    )


if __name__ == "__main__":
    main()
