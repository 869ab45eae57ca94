"""CSV import benchmark: a store imports a 50,000-row file, then the same file again (all updates).

Signs one store up on a fresh database, writes the file (fifty refused rows along the way) and runs the
import in this process, as the Celery task does, under tracemalloc: the peak is the import's Python
memory (the file alone is ~3.5 MB and its rows as Python lists ~60 MB; it reads a batch at a time, which
tests/storefront/catalog/test_import_worker.py checks by counting). The second run is timed without it.

    make bench-catalog-import                               # 50,000 rows
    make bench-catalog-import BENCH_ARGS="--rows 5000"      # quick look

The last line is: catalog_import rows=<n> first_s=<x> (under tracemalloc) peak_mib=<y> again_s=<z>
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet import database_url_for, recreate_database  # noqa: E402

BENCH_DB = "lb_bench_catalog_import"
COLUMNS = ["sku", "title", "description", "price", "currency", "stock", "status", "category", "tags"]


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n in range(rows):
            stock = -1 if n % 1000 == 0 else n % 50  # refused: one row in a thousand
            price = 100 + n % 7
            writer.writerow([f"SKU-{n:07d}", f"Product {n}", "Made nearby", price, "GBP", stock, "active", "", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()

    url = database_url_for(BENCH_DB)
    recreate_database(url)
    workdir = Path(tempfile.mkdtemp(prefix="lb-bench-import-"))
    os.environ.update(
        DATABASE_URL=url,
        MEDIA_ROOT=str(workdir / "media"),
        # The import runs here; the tasks it queues (marketplace drains) go nowhere.
        CELERY_BROKER_URL="memory://",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("STATICFILES_MANIFEST", "0")

    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command

    from onboarding.services import SignupRequest, sign_up_merchant
    from storefront.catalog.imports import run_import, start_import
    from storefront.catalog.models import ImportJob
    from tenants import schema_pool
    from tenants.db_backend import connection

    print(f"bench database {BENCH_DB}: migrating public and the template schema", file=sys.stderr)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    schema_pool.ensure_template_schema()
    store = sign_up_merchant(
        SignupRequest(
            email="importer@bench.example.com",
            password="Quiet-harbour-lanterns-42",
            store_name="Bench Importer",
            subdomain="importer",
            town="Hebden Bridge",
            postcode="HX7 8AD",
            plan="scale",  # no product limit
        )
    )
    connection.set_tenant(store.tenant)
    source = workdir / "products.csv"
    write_file(source, args.rows)

    def import_once() -> tuple[float, ImportJob]:
        with source.open("rb") as upload:
            job = start_import(File(upload, name="products.csv"))
        started = time.perf_counter()
        finished = run_import(job.pk)
        return time.perf_counter() - started, finished

    tracemalloc.start()
    first_s, first = import_once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    again_s, again = import_once()
    for job in (first, again):
        counts = f"created={job.created_count} updated={job.updated_count} failed={job.failed_count}"
        print(f"job {job.pk}: {job.status} {counts}")
    print(f'command: make bench-catalog-import BENCH_ARGS="--rows {args.rows}"')
    print(
        f"catalog_import rows={args.rows} first_s={first_s:.1f} (under tracemalloc) "
        f"peak_mib={peak / 2**20:.1f} again_s={again_s:.1f}"
    )


if __name__ == "__main__":
    main()
