"""Transaction-scoped PostgreSQL advisory locks by name: serialise work that must count, then insert
(plan limits), without locking rows nobody else touches. Released at the transaction's end."""

from __future__ import annotations

from tenants.db_backend import connection


def hold_until_commit(name: str) -> None:
    """Wait for, then hold, the lock called `name` until the current transaction ends (it must be in one)."""
    if not connection.in_atomic_block:
        raise RuntimeError(f"hold_until_commit({name!r}) needs a transaction: the lock would end at once.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])


def store_lock_name(resource: str) -> str:
    """One lock per store (its schema) and resource: additions of one kind in one store take turns."""
    return f"store-additions:{connection.schema_name}:{resource}"
