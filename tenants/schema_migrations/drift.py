"""Drift checks and the per-schema status report."""

from __future__ import annotations

from dataclasses import dataclass, field

from tenants.db_backend import connection
from tenants.schema_migrations.state import (
    _STATE_TABLE,
    APPLIED,
    DRIFT,
    Progress,
    _actual_digests,
    _drift_message,
    _managed_schemas,
    _run_lock,
    _silent,
    _write_state,
    migration_target,
)

# --- Drift and status ------------------------------------------------------------------------------


@dataclass
class DriftReport:
    checked: int = 0
    unrecorded: list[str] = field(default_factory=list)
    drifted: dict[str, str] = field(default_factory=dict)


def check_schema_drift(progress: Progress = _silent) -> DriftReport:
    """Compare every schema's real django_migrations with its recorded state; mark and report drift.

    A drifted schema whose history is back to its recorded state is marked up to date again.
    """
    target = migration_target()
    report = DriftReport()
    connection.set_schema_to_public()
    with _run_lock(), connection.cursor() as cursor:
        _count, schemas = _managed_schemas(cursor, target, everything=True)
        recorded = {s.name: s for s in schemas if s.status in (APPLIED, DRIFT)}
        report.unrecorded = sorted(s.name for s in schemas if s.status is None)
        actual = _actual_digests(cursor, sorted(recorded), target)
        report.checked = len(actual)
        for name, digest in sorted(actual.items()):
            if digest == recorded[name].recorded_digest:
                if recorded[name].status == DRIFT:  # put back as it was recorded: repaired
                    _write_state(cursor, [name], digest, APPLIED)
                continue
            expected = target.keys if recorded[name].recorded_digest == target.digest else frozenset()
            message = _drift_message(cursor, name, expected, target) if expected else "history changed since recorded"
            report.drifted[name] = message
            cursor.execute(
                f"UPDATE {_STATE_TABLE} SET status = %s, error = %s, updated_at = now() WHERE schema_name = %s",
                [DRIFT, message, name],
            )
        progress(
            f"checked {report.checked} schemas: {len(report.drifted)} drifted, {len(report.unrecorded)} unrecorded"
        )
    return report


@dataclass
class MigrationStatus:
    managed: int
    up_to_date: int
    by_status: dict[str, int]
    problems: list[tuple[str, str, str]]  # (schema, status, error) of failed and drifted schemas


def schema_migration_status() -> MigrationStatus:
    target = migration_target()
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        managed, schemas = _managed_schemas(cursor, target, everything=True)
        up_to_date = sum(1 for s in schemas if s.status == APPLIED and s.recorded_digest == target.digest)
        by_status: dict[str, int] = {}
        for schema in schemas:
            key = schema.status or "unrecorded"
            if key == APPLIED and schema.recorded_digest != target.digest:
                key = "out of date"
            by_status[key] = by_status.get(key, 0) + 1
        cursor.execute(
            f"SELECT schema_name, status, error FROM {_STATE_TABLE} WHERE status <> %s ORDER BY schema_name",
            [APPLIED],
        )
        problems = cursor.fetchall()
    return MigrationStatus(managed=managed, up_to_date=up_to_date, by_status=by_status, problems=problems)
