"""The tenant schema migration runner: Django migrations applied across thousands of tenant schemas.

Each schema's migration state is recorded in SchemaMigrationState as a digest of the migrations in its
``django_migrations`` table, so a no-op run is one query comparing those digests with the project's
migration graph. A real run groups out-of-date schemas by their recorded state, works the group's SQL
out once on a canary schema (rehearsed there, then rolled back), and replays it on every schema in
parallel: one transaction per schema that also writes the schema's new state, so a killed run resumes
exactly where it stopped. Plans that cannot be written as SQL (RunPython, non-atomic migrations) go
through Django's own executor, one schema at a time.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from django.apps import apps as global_apps
from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError, router, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations import RenameModel, RunPython, SeparateDatabaseAndState
from django.db.migrations.operations.base import Operation
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import StateApps
from django_tenants.utils import get_public_schema_name, get_tenant_base_migrate_command_class, quote_schema_name

from config.db_backend import connection
from tenants.models import SchemaMigrationState

Progress = Callable[[str], None]
APPLIED = SchemaMigrationState.Status.APPLIED.value
FAILED = SchemaMigrationState.Status.FAILED.value
DRIFT = SchemaMigrationState.Status.DRIFT.value
# A schema whose table is locked by live traffic fails fast and is retried by the next run, instead of
# stalling a worker (and queueing that tenant's requests behind the ALTER).
LOCK_TIMEOUT = "5s"
# Schemas per generated UNION ALL query when reading actual migration states.
DIGEST_QUERY_CHUNK = 500
# Canaries tried per group before the group is reported as not migratable in this run.
CANARY_ATTEMPTS = 3
# Replay errors worth a retry in a later run rather than Django's executor now: lock and statement
# timeouts, deadlocks, serialization failures, lost connections.
TRANSIENT_ERRORS = ("55P03", "57014", "40P01", "40001", "08")
# A schema whose replay failed for a reason of its own (e.g. a constraint named differently than on the
# canary, as django-tenants' clone names them) is retried with Django's executor, which introspects it.
RETRY_WITH_DJANGO = "retry"


def _silent(message: str) -> None:
    pass


def state_digest(keys: Iterable[str]) -> str:
    """The digest of a set of "app.migration" names; SQL computes the same one in _digest_expression."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()


@dataclass(frozen=True)
class MigrationTarget:
    """What a fully migrated tenant schema records: every migration of the graph, as "app.name"."""

    keys: frozenset[str]
    digest: str


def migration_target() -> MigrationTarget:
    """The recorded state of a fully migrated schema.

    django-tenants records every app's migrations in a tenant schema (the router only skips the
    operations of shared apps), and a squashed migration is recorded with the ones it replaces.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    conflicts = loader.detect_conflicts()
    if conflicts:
        raise MigrationRunError(f"Conflicting migrations {conflicts}; run makemigrations --merge first.")
    keys: set[str] = set()
    for (app_label, name), migration in loader.graph.nodes.items():
        keys.add(f"{app_label}.{name}")
        keys.update(f"{app}.{replaced}" for app, replaced in migration.replaces)
    return MigrationTarget(keys=frozenset(keys), digest=state_digest(keys))


class MigrationRunError(Exception):
    """The run cannot start (another run holds the lock, conflicting migrations, open transaction)."""


class _DriftError(Exception):
    """A schema's django_migrations is not what its recorded state (or its group) says."""


@dataclass(frozen=True)
class ManagedSchema:
    name: str
    kind: str  # "template", "pool" or "tenant"
    recorded_digest: str | None
    status: str | None


@dataclass
class RunReport:
    managed: int = 0
    public_migrated: bool = False
    out_of_date: int = 0
    recorded: int = 0  # already up to date; only their state rows were written
    applied: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    drifted: dict[str, str] = field(default_factory=dict)
    not_attempted: int = 0  # left for a later run: --limit, or a group whose canaries all failed

    @property
    def ok(self) -> bool:
        return not self.failed and not self.drifted and not self.not_attempted

    def add(self, schema: str, status: str, error: str = "") -> None:
        if status == APPLIED:
            self.applied.append(schema)
        elif status == DRIFT:
            self.drifted[schema] = error
        else:
            self.failed[schema] = error


@dataclass(frozen=True)
class GroupPlan:
    """How to bring every schema of one recorded state to the target."""

    pre_keys: frozenset[str]
    pre_digest: str
    migrations: tuple[str, ...]
    script: str | None  # the SQL replayed per schema; None: apply with Django's executor
    fallback_reason: str = ""


# --- SQL -----------------------------------------------------------------------------------------

_PUBLIC = quote_schema_name(get_public_schema_name())
_STATE_TABLE = f"{_PUBLIC}.{SchemaMigrationState._meta.db_table}"
_KNOWN_CTE = "WITH known AS (SELECT unnest(%(known)s::text[]) AS key)"
_WRITE_STATE = f"""
    INSERT INTO {_STATE_TABLE} (schema_name, state_digest, status, error, updated_at)
    SELECT unnest(%(names)s::text[]), %(digest)s, %(status)s, %(error)s, now()
    ON CONFLICT (schema_name) DO UPDATE
       SET state_digest = EXCLUDED.state_digest, status = EXCLUDED.status, error = EXCLUDED.error,
           updated_at = EXCLUDED.updated_at
"""


def _digest_expression(schema: str) -> str:
    """A scalar subquery: the digest of the known migrations recorded in `schema` (needs _KNOWN_CTE).

    Migrations no longer in the code are left out, as Django's loader ignores them too. COLLATE "C"
    sorts by code point, like Python's sorted().
    """
    return (
        "(SELECT encode(sha256(convert_to(coalesce(string_agg(key, E'\\n' ORDER BY key COLLATE \"C\"), ''),"
        " 'UTF8')), 'hex')"
        f" FROM (SELECT DISTINCT app || '.' || name AS key FROM {quote_schema_name(schema)}.django_migrations)"
        " AS recorded WHERE key IN (SELECT key FROM known))"
    )


def _write_state(cursor: Any, names: list[str], digest: str, status: str, error: str = "") -> None:
    cursor.execute(_WRITE_STATE, {"names": names, "digest": digest, "status": status, "error": error})


def _managed_schemas(cursor: Any, target: MigrationTarget, everything: bool) -> tuple[int, list[ManagedSchema]]:
    """How many schemas the runner manages, and those not recorded as up to date (or all of them).

    Managed: shared tenants whose schema exists and is live or suspended, pooled schemas and the
    template. One query, whatever the number of schemas.
    """
    cursor.execute(
        f"""
        WITH managed (schema_name, kind) AS (
            SELECT schema_name, 'tenant' FROM {_PUBLIC}.tenants_tenant
             WHERE tenancy = 'shared' AND status IN ('active', 'suspended') AND schema_name <> %(public)s
            UNION SELECT schema_name, 'pool' FROM {_PUBLIC}.tenants_pooledschema
            UNION SELECT %(template)s, 'template'
        ), present AS (
            SELECT m.schema_name, m.kind, s.state_digest, s.status
              FROM managed m
              JOIN pg_namespace n ON n.nspname = m.schema_name
              LEFT JOIN {_STATE_TABLE} s ON s.schema_name = m.schema_name
        )
        SELECT count(*),
               coalesce(json_agg(json_build_array(schema_name, kind, state_digest, status)
                                 ORDER BY schema_name)
                        FILTER (WHERE %(everything)s OR status IS DISTINCT FROM %(applied)s
                                      OR state_digest <> %(target)s), '[]')
          FROM present
        """,
        {
            "public": get_public_schema_name(),
            "template": settings.TENANT_BASE_SCHEMA,
            "everything": everything,
            "applied": APPLIED,
            "target": target.digest,
        },
    )
    count, rows = cursor.fetchone()
    return count, [ManagedSchema(*row) for row in rows]


def _actual_digests(cursor: Any, names: list[str], target: MigrationTarget) -> dict[str, str]:
    """The digest of what each schema's django_migrations really holds, in a few UNION ALL queries."""
    cursor.execute(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)",
        [names],
    )
    with_history = sorted(name for (name,) in cursor.fetchall())
    digests = {name: state_digest([]) for name in names if name not in set(with_history)}
    for start in range(0, len(with_history), DIGEST_QUERY_CHUNK):
        chunk = with_history[start : start + DIGEST_QUERY_CHUNK]
        branches = " UNION ALL ".join(
            f"SELECT %(s{i})s::text, {_digest_expression(name)}" for i, name in enumerate(chunk)
        )
        params: dict[str, Any] = {f"s{i}": name for i, name in enumerate(chunk)}
        cursor.execute(f"{_KNOWN_CTE} {branches}", {"known": sorted(target.keys), **params})
        digests.update(cursor.fetchall())
    return digests


def _drift_message(cursor: Any, schema: str, expected: frozenset[str], target: MigrationTarget) -> str:
    cursor.execute(f"SELECT DISTINCT app || '.' || name FROM {quote_schema_name(schema)}.django_migrations")
    found = {key for (key,) in cursor.fetchall()} & target.keys
    missing, extra = sorted(expected - found), sorted(found - expected)
    return f"django_migrations differs from the recorded state: missing {missing}, unexpected {extra}"


def _connection_params() -> dict[str, Any]:
    """psycopg2.connect() arguments for connections of our own, outside the search_path-prefixing
    backend (we SET LOCAL ourselves)."""
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params["application_name"] = "migrate_tenants"
    return params


@contextmanager
def _run_lock() -> Iterator[None]:
    """One runner at a time per database.

    A transaction-level lock in a transaction held open for the run: a session lock could outlive
    the run on a server connection of a transaction-pooling PgBouncer. A killed run's transaction
    dies with its connection, and the lock with it.
    """
    lock_connection = psycopg2.connect(**_connection_params())
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('tenants.schema_migrations'))")
            (locked,) = cursor.fetchone()
        if not locked:
            raise MigrationRunError("Another schema migration run is in progress.")
        yield
    finally:
        lock_connection.close()


# --- The public schema ---------------------------------------------------------------------------


def migrate_public_schema(target: MigrationTarget, verbosity: int = 0) -> bool:
    """Run Django's migrate on public unless it already records every migration (one query).

    Returns True when migrate ran. A no-op migrate still loads the graph and fires post_migrate
    handlers (about a second), so the check pays for itself on every no-op run.
    """
    connection.set_schema_to_public()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(DISTINCT app || '.' || name) FROM {_PUBLIC}.django_migrations"
                " WHERE app || '.' || name = ANY(%s)",
                [sorted(target.keys)],
            )
            (recorded,) = cursor.fetchone()
    except ProgrammingError:  # a new database: no django_migrations yet
        recorded = 0
    if recorded == len(target.keys):
        return False
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
    return True


# --- Planning a group on its canary --------------------------------------------------------------


def _is_effective_in_tenants(operation: Operation, app_label: str) -> bool:
    """Whether the tenant router lets this operation touch a tenant schema (the connection's schema)."""
    return router.allow_migrate(connection.alias, app_label, **getattr(operation, "hints", {})) is not False


def _reduces_to_sql(operation: Operation) -> bool:
    if isinstance(operation, SeparateDatabaseAndState):
        return all(_reduces_to_sql(inner) for inner in operation.database_operations)
    if isinstance(operation, RunPython):
        return operation.code is RunPython.noop
    # A renamed model's content type is renamed by Python that Django's migrate injects.
    return operation.reduces_to_sql and not isinstance(operation, RenameModel)


def _why_not_sql(plan: list[tuple[Migration, bool]], pre_keys: frozenset[str]) -> str:
    if not pre_keys:
        return "the schema has no migration history yet"
    for migration, _backwards in plan:
        label = f"{migration.app_label}.{migration.name}"
        effective = [op for op in migration.operations if _is_effective_in_tenants(op, migration.app_label)]
        if any(not _reduces_to_sql(op) for op in effective):
            return f"{label} runs Python"
        if effective and not migration.atomic:
            return f"{label} is not atomic"
    return ""


def _content_types_sql(state_apps: StateApps) -> str:
    """What Django's post_migrate handlers would add: content types and permissions, as idempotent SQL.

    Like create_contenttypes/create_permissions, every installed app's models get rows in a tenant
    schema when contenttypes and auth are tenant apps.
    """
    # The private helper is what create_permissions itself uses: the same rows, by construction.
    from django.contrib.auth.management import _get_all_permissions  # type: ignore[attr-defined]
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    if not (router.allow_migrate_model(connection.alias, ContentType)):
        return ""
    types: list[tuple[str, str]] = []
    permissions: list[tuple[str, str, str, str]] = []
    for app_config in global_apps.get_app_configs():
        if app_config.models_module is None:
            continue
        try:
            models = state_apps.get_app_config(app_config.label).get_models()
        except LookupError:
            continue
        for model in models:
            opts = model._meta
            model_name = str(opts.model_name)
            types.append((opts.app_label, model_name))
            permissions.extend((opts.app_label, model_name, code, name) for code, name in _get_all_permissions(opts))
    if not types:
        return ""
    compose = connection.ops.compose_sql  # type: ignore[attr-defined]  # PostgreSQL's operations
    statements = [
        compose(
            "INSERT INTO django_content_type (app_label, model) VALUES "
            + ", ".join(["(%s, %s)"] * len(types))
            + " ON CONFLICT (app_label, model) DO NOTHING;",
            [value for row in types for value in row],
        )
    ]
    if permissions and router.allow_migrate_model(connection.alias, Permission):
        statements.append(
            compose(
                "INSERT INTO auth_permission (name, content_type_id, codename)"
                " SELECT p.name, ct.id, p.codename FROM (VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(permissions))
                + ") AS p (app_label, model, codename, name)"
                " JOIN django_content_type ct ON ct.app_label = p.app_label AND ct.model = p.model"
                " ON CONFLICT (content_type_id, codename) DO NOTHING;",
                [value for row in permissions for value in row],
            )
        )
    return "\n".join(statements)


def _collect_and_rehearse(executor: MigrationExecutor, plan: list[tuple[Migration, bool]], inserts: list[str]) -> str:
    """The group's SQL, collected migration by migration on the canary and run there as it goes.

    Running each migration's SQL before collecting the next one keeps the schema editor's
    introspection (constraint names and the like) true for later migrations in the plan. The caller
    rolls the rehearsal back: the canary is then migrated by the workers like every other schema.
    """
    loader = executor.loader
    applied = [key for key in loader.applied_migrations if key in loader.graph.nodes]
    state = loader.project_state(applied, at_end=True)
    state.apps  # noqa: B018 - render once up front, as Django's executor does (performance critical)
    script: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for migration, _backwards in plan:
            with connection.schema_editor(collect_sql=True, atomic=False) as editor:
                state = migration.apply(state, editor, collect_sql=True)
            statements = [sql for sql in editor.collected_sql if not sql.startswith("--")]
            script.append(f"-- {migration.app_label}.{migration.name}")
            script.extend(statements)
            if statements:
                cursor.execute("\n".join(statements))
        bookkeeping = [_content_types_sql(state.apps)]
        if inserts:
            values = ", ".join(["(%s, %s, now())"] * len(inserts))
            params = [part for key in inserts for part in key.split(".", 1)]
            bookkeeping.append(
                connection.ops.compose_sql(  # type: ignore[attr-defined]
                    f"INSERT INTO django_migrations (app, name, applied) VALUES {values};", params
                )
            )
        bookkeeping = [sql for sql in bookkeeping if sql]
        if bookkeeping:
            cursor.execute("\n".join(bookkeeping))
    return "\n".join(script + bookkeeping)


def _plan_on_canary(canary: str, pre_digest: str, target: MigrationTarget) -> GroupPlan:
    connection.set_schema(canary)
    try:
        # In a transaction: the backend sends its SET LOCAL search_path (canary, public) once, so
        # django-tenants' introspection can narrow the path to the canary and not see public's tables
        # (its django_migrations above all). Nothing here is kept: the rehearsal is rolled back.
        with transaction.atomic():
            plan = _plan_in_transaction(canary, pre_digest, target)
            transaction.set_rollback(True)
        return plan
    finally:
        connection.set_schema_to_public()


def _plan_in_transaction(canary: str, pre_digest: str, target: MigrationTarget) -> GroupPlan:
    executor = MigrationExecutor(connection)
    try:
        executor.loader.check_consistent_history(connection)
    except Exception as error:  # InconsistentMigrationHistory: applied out of dependency order
        raise _DriftError(str(error)) from error
    recorded = {f"{app}.{name}" for app, name in executor.recorder.applied_migrations()}
    pre_keys = frozenset(recorded & target.keys)
    if state_digest(pre_keys) != pre_digest:
        raise _DriftError(f"recorded state {pre_digest[:12]}, found {state_digest(pre_keys)[:12]}")
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    names = tuple(f"{m.app_label}.{m.name}" for m, _ in plan)
    inserts = sorted(target.keys - pre_keys)
    planned = {f"{m.app_label}.{m.name}" for m, _ in plan}
    planned.update(f"{app}.{name}" for m, _ in plan for app, name in m.replaces)
    # Whatever the plan does not record itself must be a squash Django marks applied afterwards.
    marked = {f"{app}.{name}" for app, name in executor.loader.applied_migrations}
    reason = _why_not_sql(plan, pre_keys)
    if not reason and not set(inserts) <= planned | marked:
        reason = "the plan does not reach the full migration state"
    if reason:
        return GroupPlan(pre_keys, pre_digest, names, script=None, fallback_reason=reason)
    return GroupPlan(pre_keys, pre_digest, names, script=_collect_and_rehearse(executor, plan, inserts))


# --- Applying --------------------------------------------------------------------------------------


def _replay(conn: Any, schema: ManagedSchema, plan: GroupPlan, target: MigrationTarget) -> tuple[str, str]:
    """Migrate one schema in one transaction, its state row included. Returns (status, error)."""
    assert plan.script is not None
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                f"SET LOCAL search_path = {quote_schema_name(schema.name)}, {_PUBLIC};"
                f" SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
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
            cursor.execute(f"{_KNOWN_CTE} SELECT {_digest_expression(schema.name)}", {"known": sorted(target.keys)})
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
        _write_state(cursor, [name], plan.pre_digest, FAILED, "interrupted while Django's executor migrated it")
    error = ""
    try:
        # As django-tenants does: create django_migrations in the schema itself, not find public's.
        connection.set_schema(name, include_public=False)
        MigrationRecorder(connection).ensure_schema()
        connection.set_schema(name)
        command = get_tenant_base_migrate_command_class()()
        call_command(command, database=connection.alias, interactive=False, verbosity=0, stdout=io.StringIO())
    except Exception as failure:  # noqa: BLE001 - any migration error is this schema's failure, not the run's
        error = f"{type(failure).__name__}: {failure}"
    finally:
        connection.set_schema_to_public()
    with connection.cursor() as cursor:
        digest = _actual_digests(cursor, [name], target)[name]
        status = APPLIED if digest == target.digest and not error else FAILED
        _write_state(cursor, [name], digest, status, error or ("" if status == APPLIED else "not fully migrated"))
    return status, error


def _plan_group(
    members: list[ManagedSchema], digest: str, target: MigrationTarget, report: RunReport, progress: Progress
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
    cursor: Any, stale: list[ManagedSchema], target: MigrationTarget, report: RunReport, rediscover: bool
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
