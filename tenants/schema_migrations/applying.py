"""Applying: a group's SQL replayed on every schema in parallel, one transaction per schema with its state."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import psycopg2
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import (
    get_tenant_base_migrate_command_class,
    quote_schema_name,
)

from tenants.db_backend import connection
from tenants.schema_migrations.planning import (
    _plan_on_canary,
)
from tenants.schema_migrations.state import (
    _KNOWN_CTE,
    _PUBLIC,
    _STATE_TABLE,
    APPLIED,
    CANARY_ATTEMPTS,
    CLIENT_CHECK_INTERVAL,
    DRIFT,
    FAILED,
    LOCK_TIMEOUT,
    RETRY_WITH_DJANGO,
    TRANSIENT_ERRORS,
    GroupPlan,
    ManagedSchema,
    MigrationRunError,
    MigrationTarget,
    Progress,
    RunReport,
    _actual_digests,
    _connection_params,
    _digest_expression,
    _drift_message,
    _DriftError,
    _managed_schemas,
    _run_lock,
    _silent,
    _write_state,
    migrate_public_schema,
    migration_target,
)

# --- Applying --------------------------------------------------------------------------------------


def _replay(conn: Any, schema: ManagedSchema, plan: GroupPlan, target: MigrationTarget) -> tuple[str, str]:
    """Migrate one schema in one transaction, its state row included. Returns (status, error)."""
    assert plan.script is not None
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL search_path = {quote_schema_name(schema.name)}, {_PUBLIC};"
                f" SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';"
                f" SET LOCAL client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'"
            )
            if schema.kind == "pool":
                # Holding the pool row makes a concurrent signup skip this schema rather than rename
                # it under us; a schema already claimed is migrated under its new name next run.
                cursor.execute(
                    f"SELECT 1 FROM {_PUBLIC}.tenants_pooledschema WHERE schema_name = %s FOR UPDATE",
                    [schema.name],
                )
                if cursor.fetchone() is None:
                    return "claimed", ""
            cursor.execute(
                f"{_KNOWN_CTE} SELECT {_digest_expression(schema.name)}",
                {"known": sorted(target.keys)},
            )
            if cursor.fetchone()[0] != plan.pre_digest:
                raise _DriftError(_drift_message(cursor, schema.name, plan.pre_keys, target))
            cursor.execute(plan.script)
            _write_state(cursor, [schema.name], target.digest, APPLIED)
        return APPLIED, ""
    except _DriftError as drift:
        status, error, retry = DRIFT, str(drift), False
    except psycopg2.Error as failure:
        transient = (failure.pgcode or "08").startswith(TRANSIENT_ERRORS)  # no code: the connection broke
        status, error, retry = FAILED, str(failure).strip(), not transient
    with conn, conn.cursor() as cursor:
        # The schema was rolled back untouched, so it still holds the group's state.
        _write_state(cursor, [schema.name], plan.pre_digest, status, error)
    return (RETRY_WITH_DJANGO if retry else status), error


def _replay_batch(
    params: dict[str, Any],
    schemas: list[ManagedSchema],
    plan: GroupPlan,
    target: MigrationTarget,
    stop: threading.Event,
) -> list[tuple[str, str, str]]:
    # A connection per batch: one that touched thousands of schemas holds large catalog caches.
    conn = psycopg2.connect(**params)
    outcomes = []
    try:
        for schema in schemas:
            if stop.is_set():
                break
            outcomes.append((schema.name, *_replay(conn, schema, plan, target)))
    finally:
        conn.close()
    return outcomes


def _replay_group(
    schemas: list[ManagedSchema],
    plan: GroupPlan,
    target: MigrationTarget,
    report: RunReport,
    workers: int,
    batch_size: int,
    progress: Progress,
) -> list[ManagedSchema]:
    """Replay the plan on every schema in parallel. Returns the schemas to retry with Django's executor."""
    # Small enough batches that every worker stays busy to the end.
    size = max(1, min(batch_size, -(-len(schemas) // (workers * 4))))
    batches = [schemas[i : i + size] for i in range(0, len(schemas), size)]
    stop = threading.Event()
    done = 0
    by_name = {schema.name: schema for schema in schemas}
    retry: list[ManagedSchema] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="migrate-tenants") as pool:
        params = _connection_params()
        futures = [pool.submit(_replay_batch, params, batch, plan, target, stop) for batch in batches]
        try:
            for future in as_completed(futures):
                for name, status, error in future.result():
                    done += 1
                    if status == "claimed":
                        report.not_attempted += 1
                    elif status == RETRY_WITH_DJANGO:
                        retry.append(by_name[name])
                    else:
                        report.add(name, status, error)
                progress(
                    f"  {done}/{len(schemas)} schemas done, {len(retry)} to retry, "
                    f"{len(report.failed)} failed, {len(report.drifted)} drifted"
                )
        except BaseException:
            # Ctrl-C or a lost database: let running schemas finish their transaction, start no more.
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return retry


def _migrate_with_django(schema: ManagedSchema, plan: GroupPlan, target: MigrationTarget) -> tuple[str, str]:
    """Django's migrate on one schema, for plans that are not plain SQL. Not atomic as a whole, so
    the state says "failed" while it runs: a killed run then re-reads the schema's real history (as
    does the next run when a signup claims and renames a pool schema meanwhile: the row moves too)."""
    name = schema.name
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        if _actual_digests(cursor, [name], target)[name] != plan.pre_digest:
            error = _drift_message(cursor, name, plan.pre_keys, target) if plan.pre_keys else "unexpected history"
            _write_state(cursor, [name], plan.pre_digest, DRIFT, error)
            return DRIFT, error
        _write_state(
            cursor,
            [name],
            plan.pre_digest,
            FAILED,
            "interrupted while Django's executor migrated it",
        )
    error = ""
    try:
        # As django-tenants does: create django_migrations in the schema itself, not find public's.
        connection.set_schema(name, include_public=False)
        MigrationRecorder(connection).ensure_schema()
        connection.set_schema(name)
        command = get_tenant_base_migrate_command_class()()
        call_command(
            command,
            database=connection.alias,
            interactive=False,
            verbosity=0,
            stdout=io.StringIO(),
        )
    except Exception as failure:  # noqa: BLE001 - any migration error is this schema's failure, not the run's
        error = f"{type(failure).__name__}: {failure}"
    finally:
        connection.set_schema_to_public()
    with connection.cursor() as cursor:
        digest = _actual_digests(cursor, [name], target)[name]
        status = APPLIED if digest == target.digest and not error else FAILED
        _write_state(
            cursor,
            [name],
            digest,
            status,
            error or ("" if status == APPLIED else "not fully migrated"),
        )
    return status, error


def _plan_group(
    members: list[ManagedSchema],
    digest: str,
    target: MigrationTarget,
    report: RunReport,
    progress: Progress,
) -> tuple[GroupPlan | None, list[ManagedSchema]]:
    """Plan a group on a canary (the template first when it is in the group). Returns the plan and
    the schemas left to migrate with it."""
    remaining = list(members)
    failures = 0
    while remaining and failures < CANARY_ATTEMPTS:
        canary = remaining[0]
        try:
            return _plan_on_canary(canary.name, digest, target), remaining
        except _DriftError as drift:
            with connection.cursor() as cursor:
                _write_state(cursor, [canary.name], digest, DRIFT, str(drift))
            report.add(canary.name, DRIFT, str(drift))
        except Exception as error:  # noqa: BLE001 - a failed rehearsal only rolls the canary back
            failures += 1
            message = f"rehearsal on the canary failed: {type(error).__name__}: {error}"
            with connection.cursor() as cursor:
                _write_state(cursor, [canary.name], digest, FAILED, message)
            report.add(canary.name, FAILED, message)
            progress(f"  canary {canary.name}: {message}")
        remaining.pop(0)
    report.not_attempted += len(remaining)
    return None, []


def _kind_order(schema: ManagedSchema) -> tuple[int, str]:
    # The template first, then the pool: new signups get the new schema as early as possible.
    return ({"template": 0, "pool": 1}.get(schema.kind, 2), schema.name)


def run_schema_migrations(
    *,
    workers: int = 4,
    batch_size: int = 50,
    limit: int | None = None,
    rediscover: bool = False,
    progress: Progress = _silent,
) -> RunReport:
    """Bring public, the template, the pool and every shared tenant's schema to the latest migrations.

    `limit` caps how many schemas are migrated in this run (staged rollouts); `rediscover` re-reads
    the real history of drifted schemas instead of keeping them aside.
    """
    if connection.in_atomic_block:
        raise MigrationRunError("Run outside a transaction: the workers use their own connections.")
    target = migration_target()
    report = RunReport()
    with _run_lock():
        report.public_migrated = migrate_public_schema(target)
        progress("public: migrated" if report.public_migrated else "public: up to date")
        with connection.cursor() as cursor:
            report.managed, stale = _managed_schemas(cursor, target, everything=False)
        progress(f"schemas: {report.managed} managed, {len(stale)} not recorded as up to date")
        if not stale:
            return report
        with connection.cursor() as cursor:
            # State rows of schemas that are gone (dropped tenants, claimed or drained pool schemas).
            cursor.execute(
                f"DELETE FROM {_STATE_TABLE} s"
                " WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s.schema_name)"
            )
            groups = _group_by_state(cursor, stale, target, report, rediscover)
        report.out_of_date = sum(len(members) for members in groups.values())
        budget = report.out_of_date if limit is None else limit
        for digest, members in sorted(groups.items(), key=lambda item: -len(item[1])):
            members.sort(key=_kind_order)
            report.not_attempted += max(0, len(members) - budget)
            members = members[:budget]
            if not members:
                continue
            plan, members = _plan_group(members, digest, target, report, progress)
            if plan is None:
                continue
            budget -= len(members)
            how = "SQL replay" if plan.script else f"Django's executor ({plan.fallback_reason})"
            progress(
                f"group {digest[:12]}: {len(members)} schemas, {', '.join(plan.migrations) or 'records only'}; {how}"
            )
            if plan.script:
                members = _replay_group(members, plan, target, report, workers, batch_size, progress)
                if members:
                    progress(f"  {len(members)} schemas failed the SQL replay; retrying them with Django's executor")
            for done, schema in enumerate(members, 1):
                report.add(schema.name, *_migrate_with_django(schema, plan, target))
                progress(f"  {done}/{len(members)} schemas done, {len(report.failed)} failed")
    return report


def _group_by_state(
    cursor: Any,
    stale: list[ManagedSchema],
    target: MigrationTarget,
    report: RunReport,
    rediscover: bool,
) -> dict[str, list[ManagedSchema]]:
    """Out-of-date schemas by the state they start from. A recorded "applied" state is trusted; the
    real history is read for schemas with no state, a failed run, or (with rediscover) drift."""
    trusted = [s for s in stale if s.status == APPLIED]
    drifted = [s for s in stale if s.status == DRIFT and not rediscover]
    unknown = [s for s in stale if s.status != APPLIED and (s.status != DRIFT or rediscover)]
    for schema in drifted:
        report.drifted[schema.name] = "recorded as drifted; fix it, then run with --rediscover"
    groups: dict[str, list[ManagedSchema]] = {}
    for schema in trusted:
        groups.setdefault(schema.recorded_digest or "", []).append(schema)
    actual = _actual_digests(cursor, [s.name for s in unknown], target) if unknown else {}
    current = [name for name, digest in actual.items() if digest == target.digest]
    if current:
        _write_state(cursor, current, target.digest, APPLIED)
        report.recorded = len(current)
    for schema in unknown:
        if actual[schema.name] != target.digest:
            groups.setdefault(actual[schema.name], []).append(schema)
    return groups
