"""Onboarding benchmark: how long a merchant waits for a live shared store, as the platform grows.

Signs merchants up through the real path (POST /api/v1/signup through the middleware, DRF and the
signup service, password hashing included) at 10, 1,000 and 5,000 existing tenant schemas, and
measures django-tenants' default create-by-migrations in the same run as the baseline: the same
signup path with the pool empty, so the store's schema is made by CREATE SCHEMA + every migration.
(The bare django-tenants call, Tenant.save() + create_schema(), is printed too.)

    make bench-onboarding                     # full run
    make bench-onboarding BENCH_ARGS="--stages 10,200 --samples 10"   # quick look

The last line is: onboarding p50_ms=<x> p95_ms=<y> tenants=<n> baseline_migrate_p50_ms=<z>
(p50/p95 over the signups at the largest stage; per-stage figures are printed above it.)
The schema pool is topped up before each stage, as the refill task keeps it in production.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet import create_fleet, database_url_for, recreate_database  # noqa: E402

BENCH_DB = "lb_bench_onboarding"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", default="10,1000,5000", help="existing-tenant counts to measure at")
    parser.add_argument("--samples", type=int, default=30, help="signups timed at each stage")
    parser.add_argument("--baseline-samples", type=int, default=5, help="create-by-migrations samples")
    args = parser.parse_args()
    stages = [int(s) for s in args.stages.split(",")]

    url = database_url_for(BENCH_DB)
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["SIGNUP_THROTTLE_RATE"] = "1000000/hour"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STATICFILES_MANIFEST", "0")
    os.environ["LOG_LEVEL"] = "WARNING"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tenants import schema_pool
    from tenants.models import Tenant

    print(f"bench database {BENCH_DB}: migrating public and the template schema", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    schema_pool.ensure_template_schema()
    template = schema_pool.template_schema_name()
    platform_host = os.environ.get("PLATFORM_DOMAIN", "localhost")
    client = Client(HTTP_HOST=platform_host)
    signups = 0

    def sign_up_one() -> float:
        nonlocal signups
        signups += 1
        body = {
            "email": f"merchant{signups}@bench.example.com",
            "password": "Quiet-harbour-lanterns-42",
            "store_name": f"Bench Store {signups}",
            "subdomain": f"bench{signups}",
            "town": "Hebden Bridge",
            "postcode": "HX7 8AD",
            "tenancy": "shared",
        }
        started = time.perf_counter()
        response = client.post("/api/v1/signup", body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 201:
            raise SystemExit(f"signup failed: {response.status_code} {response.content[:300]!r}")
        return elapsed

    def baseline_one(n: int) -> float:
        """django-tenants' default: CREATE SCHEMA, then run every tenant migration into it."""
        tenant = Tenant(
            schema_name=f"t_baseline{n}",
            slug=f"baseline{n}",
            name=f"Baseline {n}",
            owner_email=f"baseline{n}@bench.example.com",
            town="Leeds",
            postcode="LS1 1AA",
        )
        started = time.perf_counter()
        tenant.save()
        tenant.create_schema(check_if_exists=True, sync_schema=True, verbosity=0)
        elapsed = (time.perf_counter() - started) * 1000
        connection.set_schema_to_public()
        return elapsed

    existing = 0
    results: dict[int, list[float]] = {}
    baseline: list[float] = []
    for stage in stages:
        missing = stage - Tenant.objects.count()
        if missing > 0:
            seconds = create_fleet(url, template, existing + 1, missing)
            existing += missing
            print(f"  fleet grown by {missing} schemas in {seconds:.1f}s", file=sys.stderr)
        schema_pool.refill_schema_pool(args.samples + 1)
        sign_up_one()  # warm-up: imports, connection, caches
        timings = [sign_up_one() for _ in range(args.samples)]
        results[stage] = timings
        tenants_now = Tenant.objects.count()
        print(
            f"stage tenants={tenants_now} p50_ms={statistics.median(timings):.1f} "
            f"p95_ms={percentile(timings, 0.95):.1f} max_ms={max(timings):.1f} samples={len(timings)}",
            flush=True,
        )
        if not baseline:
            schema_pool.drain_schema_pool()
            baseline = [sign_up_one() for _ in range(args.baseline_samples)]
            bare = [baseline_one(i) for i in range(1, args.baseline_samples + 1)]
            print(
                f"baseline signup with schema by migrations p50_ms={statistics.median(baseline):.1f} "
                f"(bare Tenant.save+create_schema p50_ms={statistics.median(bare):.1f}) "
                f"samples={len(baseline)}",
                flush=True,
            )

    last = results[stages[-1]]
    p50 = statistics.median(last)
    base = statistics.median(baseline)
    print(f"speed-up over baseline: {base / p50:.0f}x", flush=True)
    print(f"reproduce: make bench-onboarding BENCH_ARGS='--stages {args.stages} --samples {args.samples}'")
    print(
        f"onboarding p50_ms={p50:.1f} p95_ms={percentile(last, 0.95):.1f} "
        f"tenants={Tenant.objects.count()} baseline_migrate_p50_ms={base:.1f}"
    )


if __name__ == "__main__":
    main()
