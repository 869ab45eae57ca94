"""What the runner knows of each schema: recorded migration states, digests, the run lock and the public schema."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import ProgrammingError
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import (
    get_public_schema_name,
    quote_schema_name,
)

from tenants.advisory_locks import own_connection_params, try_advisory_lock
from tenants.db_backend import connection
from tenants.models import SchemaMigrationState

Progress = Callable[[str], None]
APPLIED = SchemaMigrationState.Status.APPLIED.value
FAILED = SchemaMigrationState.Status.FAILED.value
DRIFT = SchemaMigrationState.Status.DRIFT.value
# A schema whose table is locked by live traffic fails fast and is retried by the next run, instead of
# stalling a worker (and queueing that tenant's requests behind the ALTER).
LOCK_TIMEOUT = "5s"
# How soon a worker's statement stops once its run was killed (the server polls the client's socket):
# it would otherwise finish a long statement (an index build) for nobody, keeping the schema's tables
# locked from the next run meanwhile. Rolled back, the schema is left at its old state for that run.
CLIENT_CHECK_INTERVAL = "1s"
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
    cursor.execute(
        _WRITE_STATE,
        {"names": names, "digest": digest, "status": status, "error": error},
    )


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
    """psycopg2.connect() arguments for the workers' connections (they SET LOCAL the path themselves)."""
    return own_connection_params("migrate_tenants")


@contextmanager
def _run_lock() -> Iterator[None]:
    """One runner at a time per database; a killed run's lock dies with its connection."""
    with try_advisory_lock("tenants.schema_migrations", application_name="migrate_tenants") as locked:
        if not locked:
            raise MigrationRunError("Another schema migration run is in progress.")
        yield


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
