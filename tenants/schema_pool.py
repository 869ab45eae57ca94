"""The pool of pre-migrated tenant schemas that makes a shared-tenancy signup instant.

A signup claims one pooled schema with ``SKIP LOCKED`` and renames it to the tenant's schema inside
its own transaction, so a failed signup hands the schema back to the pool untouched. A Celery task
tops the pool up in the background. The template schema is a migrated, empty reference schema that
the migration runner keeps current (benchmarks copy it to build large fleets).
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django_tenants.utils import quote_schema_name, schema_exists

from tenants.advisory_locks import try_advisory_lock
from tenants.db_backend import connection
from tenants.models import PooledSchema

logger = logging.getLogger(__name__)


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def template_exists() -> bool:
    return bool(schema_exists(template_schema_name()))


def ensure_template_schema(verbosity: int = 0) -> bool:
    """Create and migrate the template schema if it is missing. Returns True when it was created."""
    name = template_schema_name()
    connection.set_schema_to_public()
    if schema_exists(name):
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(name)}")
    call_command("migrate_schemas", schema_name=name, tenant=True, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()
    return True


def create_schema_by_migrating(schema_name: str) -> None:
    """The slow path: a new schema built by running every tenant migration."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_schema_name(schema_name)}")
    call_command("migrate_schemas", schema_name=schema_name, tenant=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def claim_pooled_schema(schema_name: str) -> str | None:
    """Take one pooled schema and rename it to `schema_name`, in the caller's transaction.

    Returns the pooled schema's former name, or None when the pool is empty.
    The schema's migration state row (tenants.schema_migrations) moves with it, in the same statement.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH claimed AS (
                DELETE FROM tenants_pooledschema
                 WHERE id = (SELECT id FROM tenants_pooledschema ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING schema_name
            ), released AS (
                DELETE FROM tenants_schemamigrationstate s USING claimed
                 WHERE s.schema_name = claimed.schema_name
                RETURNING s.state_digest, s.status, s.error
            ), renamed AS (
                INSERT INTO tenants_schemamigrationstate (schema_name, state_digest, status, error, updated_at)
                SELECT %s, state_digest, status, error, now() FROM released
                ON CONFLICT (schema_name) DO UPDATE
                   SET state_digest = EXCLUDED.state_digest, status = EXCLUDED.status, error = EXCLUDED.error,
                       updated_at = EXCLUDED.updated_at
            )
            SELECT schema_name FROM claimed
            """,
            [schema_name],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(f"ALTER SCHEMA {quote_schema_name(row[0])} RENAME TO {quote_schema_name(schema_name)}")
    return row[0]


def add_pooled_schema() -> PooledSchema:
    """Make one more ready schema by running the tenant migrations into it.

    Not by cloning the template: django-tenants' clone names unique constraints `<table>_<col>_key`
    where Django's migrations name them `..._uniq`, so cloned schemas would drift from migrated ones
    and later migrations could not be replayed on them as one SQL script (tenants.schema_migrations).
    The cost (a few hundred ms a schema) is paid here, in the background, never by a signup.
    """
    name = f"pool_{uuid.uuid4().hex[:16]}"
    with transaction.atomic():
        create_schema_by_migrating(name)
        return PooledSchema.objects.create(schema_name=name)


def refill_schema_pool(target: int | None = None) -> int:
    """Top the pool up to `target` schemas (TENANT_POOL_SIZE by default). Returns how many were added.

    Refills run one at a time, whoever starts them (the Celery task after every signup and on beat,
    `make dev`, benchmarks): two that both counted the pool short would each top it up and overfill
    it. One that finds another running returns 0 at once: waiting would only add surplus schemas.
    Each new schema commits as soon as it is made, so signups can claim it while the refill goes on;
    call it outside a transaction, or the lock would end before the new schemas are counted.
    """
    target = settings.TENANT_POOL_SIZE if target is None else target
    with try_advisory_lock("tenants.refill_schema_pool", application_name="refill_schema_pool") as alone:
        if not alone:
            return 0
        ensure_template_schema()
        missing = target - PooledSchema.objects.count()
        for _ in range(max(missing, 0)):
            add_pooled_schema()
    if missing > 0:
        logger.info("schema pool refilled", extra={"added": missing, "target": target})
    return max(missing, 0)


def drain_schema_pool() -> int:
    """Drop every pooled schema (e.g. before rebuilding them after a schema change)."""
    dropped = 0
    for pooled in PooledSchema.objects.all():
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(pooled.schema_name)} CASCADE")
            pooled.delete()
            dropped += 1
    return dropped
