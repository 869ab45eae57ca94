"""PostgreSQL advisory locks by name.

Transaction-scoped ones serialise work that must count, then insert (plan limits), without locking rows
nobody else touches; released at the transaction's end. One-at-a-time locks for background jobs (the
schema pool refill, the schema migration runner) are taken the same way in a transaction held open on a
connection of their own: no session state (so they hold behind a transaction pooler too), they last
exactly as long as the `with` block while the job commits its own work as it goes, and they die with the
connection of a killed process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2

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


def own_connection_params(application_name: str) -> dict[str, Any]:
    """psycopg2.connect() arguments for a connection of our own, outside the search_path-prefixing
    backend (whoever uses it sets the path itself)."""
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params["application_name"] = application_name
    return params


@contextmanager
def try_advisory_lock(name: str, *, application_name: str) -> Iterator[bool]:
    """Try to take the job lock called `name` without waiting, on a connection of its own; yields
    whether this caller holds it for the block."""
    lock_connection = psycopg2.connect(**own_connection_params(application_name))
    try:
        with lock_connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [name])
            (locked,) = cursor.fetchone()
        yield bool(locked)
    finally:
        lock_connection.close()
