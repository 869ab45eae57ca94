"""The per-tenant database lock that makes two executions for one tenant's stack impossible.

A PostgreSQL advisory lock taken with `pg_try_advisory_xact_lock` in a transaction held open on a
connection of its own: it needs no session state (so it holds behind a transaction pooler too), lives
exactly as long as the `with` block, and dies with the connection of a killed worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

from tenants.db_backend import connection

LOCK_NAMESPACE = "provisioning.tenant"


@contextmanager
def tenant_lock(tenant_id: int) -> Iterator[bool]:
    """Try to take the tenant's lock without waiting; yields whether this caller holds it."""
    params = {key: value for key, value in connection.get_connection_params().items() if key != "cursor_factory"}
    params["application_name"] = f"provisioning lock tenant={tenant_id}"
    lock_connection = psycopg2.connect(**params)
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"{LOCK_NAMESPACE}:{tenant_id}"]
            )
            row = cursor.fetchone()
        yield bool(row and row[0])
    finally:
        lock_connection.rollback()
        lock_connection.close()


def is_tenant_locked(tenant_id: int) -> bool:
    """Whether some executor is working on the tenant's stack right now."""
    with tenant_lock(tenant_id) as acquired:
        return not acquired
