"""``manage.py migrate_tenants``: migrate public, the template, the pool and every shared tenant's schema.

A no-op run answers from the recorded per-schema state in one query; a real run replays each plan's
SQL in parallel, one transaction per schema, and resumes where a killed run stopped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.schema_migrations import (
    MigrationRunError,
    check_schema_drift,
    run_schema_migrations,
    schema_migration_status,
)

# How many failed or drifted schemas are listed by name; the rest are counted.
LISTED = 20


class Command(BaseCommand):
    help = "Apply migrations to the public schema and to every tenant, pool and template schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=4, help="schemas migrated in parallel (default 4)")
        parser.add_argument("--batch-size", type=int, default=50, help="schemas per worker connection (default 50)")
        parser.add_argument("--limit", type=int, default=None, help="migrate at most this many schemas this run")
        parser.add_argument(
            "--rediscover", action="store_true", help="re-read the history of drifted schemas (after fixing them)"
        )
        parser.add_argument(
            "--check-drift",
            action="store_true",
            help="compare each schema's django_migrations with its recorded state; exit 1 on drift",
        )
        parser.add_argument("--status", action="store_true", help="show the recorded per-schema status and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["status"]:
                self._show_status()
            elif options["check_drift"]:
                self._check_drift()
            else:
                self._migrate(options)
        except MigrationRunError as error:
            raise CommandError(str(error)) from error

    def _migrate(self, options: dict[str, Any]) -> None:
        if options["workers"] < 1 or options["batch_size"] < 1:
            raise CommandError("--workers and --batch-size must be at least 1.")
        report = run_schema_migrations(
            workers=options["workers"],
            batch_size=options["batch_size"],
            limit=options["limit"],
            rediscover=options["rediscover"],
            progress=self.stdout.write,
        )
        self.stdout.write(
            f"done: {report.managed} schemas managed, {report.out_of_date} out of date, "
            f"{len(report.applied)} migrated, {report.recorded} recorded as up to date, "
            f"{len(report.failed)} failed, {len(report.drifted)} drifted, {report.not_attempted} left for a later run"
        )
        self._list("failed", report.failed)
        self._list("drifted", report.drifted)
        if report.failed or report.drifted:
            raise CommandError("Some schemas are not migrated; see above, or run migrate_tenants --status.")

    def _check_drift(self) -> None:
        report = check_schema_drift(progress=self.stdout.write)
        if report.unrecorded:
            self.stdout.write(f"{len(report.unrecorded)} schemas have no recorded state yet (a run records them)")
        self._list("drifted", report.drifted)
        if report.drifted:
            raise CommandError(f"{len(report.drifted)} schemas drifted from their recorded migration state.")

    def _show_status(self) -> None:
        status = schema_migration_status()
        counts = ", ".join(f"{count} {name}" for name, count in sorted(status.by_status.items()))
        self.stdout.write(f"{status.managed} schemas managed, {status.up_to_date} up to date ({counts or 'none'})")
        self._list("needs attention", {schema: f"{state}: {error}" for schema, state, error in status.problems})

    def _list(self, title: str, errors: dict[str, str]) -> None:
        for schema, error in sorted(errors.items())[:LISTED]:
            self.stdout.write(f"  {title}: {schema}: {error}")
        if len(errors) > LISTED:
            self.stdout.write(f"  ... and {len(errors) - LISTED} more {title}")
