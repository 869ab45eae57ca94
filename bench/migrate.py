"""Migration benchmark: `manage.py migrate_tenants` across 1,000 tenant schemas.

Builds its own database (lb_bench_migrate): public, the template, the schema pool and a fleet of real
tenant schemas (bench/fleet.py), records their state with a first run, then times, as an operator
runs it (a fresh `manage.py migrate_tenants` process each time):

  noop_s       a run with nothing to migrate;
  apply_one_s  a run applying one new migration (a nullable column on catalog.Product, added through
               a MIGRATION_MODULES override in a temporary settings module) to every schema.

    make bench-migrate                                   # 1,000 tenants
    make bench-migrate BENCH_ARGS="--tenants 200 --kill-test"

--kill-test then applies a second migration, kills the run (SIGKILL) partway, checks that no schema
is half-migrated, and times the run that completes it. For comparison, --smart-executor times
django-tenants' `migrate_schemas --tenant` no-op with django-tenants-smart-executor (which skips
schemas with nothing to migrate; it must be importable, e.g. pip install it or put it on PYTHONPATH),
and --baseline the same no-op with django-tenants' own executor (slow: minutes).
The last line is: migrate noop_s=<a> apply_one_s=<b> tenants=<n>
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fleet import create_fleet, database_url_for, recreate_database  # noqa: E402

BENCH_DB = "lb_bench_migrate"
PACKAGE = "bench_catalog_migrations"
SETTINGS_MODULE = "bench_migrate_settings"
SMART_SETTINGS_MODULE = "bench_smart_executor_settings"
COLUMN_MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "{previous}")]
    operations = [migrations.AddField("product", "{column}", models.CharField(max_length=200, null=True))]
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Workspace:
    """A temporary settings module whose MIGRATION_MODULES points catalog at a package we add to."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
        package = self.root / PACKAGE
        package.mkdir()
        (package / "__init__.py").write_text("")
        # The app's own migrations, so the fleet (made with them) starts up to date; ours chain after.
        migrations = sorted((ROOT / "storefront" / "catalog" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py"))
        for migration in migrations:
            shutil.copy(migration, package)
        (self.root / f"{SETTINGS_MODULE}.py").write_text(
            f'from config.settings import *  # noqa: F403\n\nMIGRATION_MODULES = {{"catalog": "{PACKAGE}"}}\n'
        )
        (self.root / f"{SMART_SETTINGS_MODULE}.py").write_text(
            "from config.settings import *  # noqa: F403\n\n"
            'GET_EXECUTOR_FUNCTION = "django_tenants_smart_executor.load_executor"\n'
        )
        self.latest = migrations[-1].stem

    def add_column_migration(self, number: int, column: str) -> str:
        name = f"{number:04d}_product_{column}"
        source = COLUMN_MIGRATION.format(previous=self.latest, column=column)
        (self.root / PACKAGE / f"{name}.py").write_text(source)
        self.latest = name
        return f"catalog.{name}"

    def env(self, settings_module: str = "config.settings") -> dict[str, str]:
        """The environment of a manage.py run: config.settings, or one of the temporary settings modules."""
        env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module)
        env["PYTHONPATH"] = os.pathsep.join([str(self.root), str(ROOT), env.get("PYTHONPATH", "")])
        return env

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def migrate_tenants(env: dict[str, str], *extra: str) -> float:
    """Run manage.py migrate_tenants as an operator would; its output goes to stderr. Returns seconds."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate_tenants", *extra],
        env=env,
        stdout=sys.stderr,
        stderr=sys.stderr,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"migrate_tenants exited with {result.returncode}")
    return elapsed


def column_census(url: str, column: str) -> tuple[int, int, int]:
    """(schemas with the column, schemas recording its migration, schemas with exactly one of the two)."""
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.columns"
            " WHERE table_name = 'catalog_product' AND column_name = %s",
            [column],
        )
        with_column = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'django_migrations' AND n.nspname <> 'public'"
        )
        schemas = [name for (name,) in cursor.fetchall()]
        branches = " UNION ALL ".join(
            f"SELECT '{name}' FROM \"{name}\".django_migrations WHERE app = 'catalog' AND name LIKE %s"
            for name in schemas
        )
        cursor.execute(branches, [f"%_product_{column}"] * len(schemas))
        recording = {name for (name,) in cursor.fetchall()}
    conn.close()
    return len(with_column), len(recording), len(with_column ^ recording)


def managed_count(url: str) -> int:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM public.tenants_schemamigrationstate")
        (count,) = cursor.fetchone()
    conn.close()
    return count


def kill_test(url: str, workspace: Workspace, workers: int) -> None:
    """Kill a run partway; nothing may be half-migrated, and the next run must complete the rest."""
    workspace.add_column_migration(int(workspace.latest[:4]) + 1, "kill_note")
    managed = managed_count(url)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "migrate_tenants", "--workers", str(workers)],
        env=workspace.env(SETTINGS_MODULE),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    done = 0
    with conn.cursor() as cursor:
        while process.poll() is None and done < managed // 3:
            cursor.execute(
                "SELECT count(*) FROM information_schema.columns"
                " WHERE table_name = 'catalog_product' AND column_name = 'kill_note'"
            )
            (done,) = cursor.fetchone()
            time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    conn.close()
    columns, recorded, half = column_census(url, "kill_note")
    log(f"kill test: run killed with {columns}/{managed} schemas migrated; half-migrated schemas: {half}")
    resumed = migrate_tenants(workspace.env(SETTINGS_MODULE), "--workers", str(workers))
    columns, recorded, half = column_census(url, "kill_note")
    ok = columns == recorded == managed and half == 0
    print(f"kill_test resumed_s={resumed:.2f} migrated={columns}/{managed} half_migrated={half} ok={ok}", flush=True)
    if not ok:
        raise SystemExit("kill test failed: the resumed run did not complete every schema")


def migrate_schemas_noop(env: dict[str, str], label: str) -> None:
    """Time django-tenants' own `migrate_schemas --tenant` when there is nothing to migrate."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate_schemas", "--tenant", "--noinput", "-v", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
        check=True,
    )
    print(f"{label} noop_s={time.perf_counter() - started:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000, help="tenant schemas in the fleet (default 1000)")
    parser.add_argument("--workers", type=int, default=4, help="migrate_tenants --workers (default 4)")
    parser.add_argument("--kill-test", action="store_true", help="also kill a run partway and resume it")
    parser.add_argument("--smart-executor", action="store_true", help="also time django-tenants-smart-executor")
    parser.add_argument("--baseline", action="store_true", help="also time migrate_schemas' no-op (minutes)")
    args = parser.parse_args()

    url = database_url_for(BENCH_DB)
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tenants import schema_pool
    from tenants.schema_migrations import run_schema_migrations

    log(f"bench database {BENCH_DB}: migrating public, the template and a pool of {settings.TENANT_POOL_SIZE}")
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    schema_pool.ensure_template_schema()
    schema_pool.refill_schema_pool()
    seconds = create_fleet(url, schema_pool.template_schema_name(), 1, args.tenants)
    log(f"fleet of {args.tenants} tenant schemas made in {seconds:.1f}s")
    started = time.perf_counter()
    first = run_schema_migrations()
    log(f"first run recorded the state of {first.recorded} schemas in {time.perf_counter() - started:.2f}s")

    workspace = Workspace()
    try:
        noop = migrate_tenants(workspace.env())
        log(f"no-op run: {noop:.2f}s")
        if args.smart_executor:
            if importlib.util.find_spec("django_tenants_smart_executor") is None:
                log("django-tenants-smart-executor is not importable; its comparison is skipped")
            else:
                migrate_schemas_noop(workspace.env(SMART_SETTINGS_MODULE), "django-tenants-smart-executor")
        if args.baseline:
            migrate_schemas_noop(workspace.env(), "django-tenants migrate_schemas")
        workspace.add_column_migration(int(workspace.latest[:4]) + 1, "bench_note")
        apply_one = migrate_tenants(workspace.env(SETTINGS_MODULE), "--workers", str(args.workers))
        columns, recorded, half = column_census(url, "bench_note")
        managed = managed_count(url)
        log(f"applied: {columns}/{managed} schemas have the column, {recorded} record it, {half} half-migrated")
        if not columns == recorded == managed or half:
            raise SystemExit("the new migration did not reach every schema")
        if args.kill_test:
            kill_test(url, workspace, args.workers)
    finally:
        workspace.remove()

    bench_args = f" BENCH_ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else ""
    print(f"reproduce: make bench-migrate{bench_args}", flush=True)
    print(f"migrate noop_s={noop:.2f} apply_one_s={apply_one:.2f} tenants={args.tenants}")


if __name__ == "__main__":
    main()
