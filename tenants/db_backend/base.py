"""The tenant-aware PostgreSQL backend, made safe behind a transaction-pooling PgBouncer.

django-tenants sets the tenant's path with a session-level ``SET search_path`` on its own round trip.
Behind a transaction pooler the next statement may run on another server connection, one that still
carries some other tenant's path. Here the path travels with the work instead: the first statement of
every transaction (and every autocommit statement) is sent as ``SET LOCAL search_path = ...; <sql>`` in
the same simple-query message, which PostgreSQL runs as one transaction on one server connection. The
path dies with the transaction, so nothing of it is left on the pooled connection.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg2.extensions
from django.conf import settings
from django_tenants.postgresql_backend import base as tenants_base
from django_tenants.utils import quote_schema_name

_IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE
_IN_TRANSACTION = psycopg2.extensions.TRANSACTION_STATUS_INTRANS
# Statements PostgreSQL refuses inside a transaction block, so they can't carry a SET LOCAL prefix.
# They are maintenance work (test databases, concurrent index builds in migrations), which runs on
# a direct connection, never through the pooler: they get a session-level SET on its own round trip.
_NON_TRANSACTIONAL = re.compile(
    r"^\s*(?:(?:CREATE|DROP)\s+DATABASE|VACUUM|ALTER\s+SYSTEM|REINDEX|CLUSTER|(?:CREATE|DROP)\s+TABLESPACE"
    r"|(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\s+CONCURRENTLY)",
    re.IGNORECASE,
)


class SearchPathCursor(psycopg2.extensions.cursor):
    """A cursor that prefixes statements with the owning connection's ``SET LOCAL search_path``."""

    path_owner: DatabaseWrapper

    def execute(self, query: Any, vars: Any = None) -> Any:
        if isinstance(query, str) and _NON_TRANSACTIONAL.match(query):
            super().execute(self.path_owner.search_path_clause().replace("SET LOCAL", "SET", 1))
            return super().execute(query, vars)
        return super().execute(self.path_owner.with_search_path(self.connection, query), vars)

    def executemany(self, query: Any, vars_list: Any) -> Any:
        # Each statement of executemany may open its own transaction in autocommit mode, so run
        # them one by one through execute() and its prefix check.
        rowcount = 0
        for vars in vars_list:
            self.execute(query, vars)
            rowcount += max(self.rowcount, 0)
        return rowcount


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The SET LOCAL clause already sent in the transaction now open, if any.
        self._path_in_transaction: str | None = None
        super().__init__(*args, **kwargs)

    def search_path_clause(self) -> str:
        schemas = self._get_cursor_search_paths()
        return "SET LOCAL search_path = " + ",".join(quote_schema_name(s) for s in schemas)

    def with_search_path(self, raw_connection: Any, query: Any) -> Any:
        clause = self.search_path_clause()
        status = raw_connection.info.transaction_status
        if status == _IDLE:
            # This statement opens a transaction (implicit in autocommit, or after psycopg2's BEGIN).
            self._path_in_transaction = clause
        elif status == _IN_TRANSACTION and self._path_in_transaction != clause:
            # The schema changed inside an open transaction: the new path applies from here on.
            self._path_in_transaction = clause
        else:
            return query
        if isinstance(query, bytes):
            return clause.encode() + b"; " + query
        if not isinstance(query, str):
            query = query.as_string(raw_connection)
        return f"{clause}; {query}"

    def _cursor(self, name: str | None = None) -> Any:
        # Skip django-tenants' session-level SET: the path is sent with each transaction instead.
        return super(tenants_base.DatabaseWrapper, self)._cursor(name)

    def create_cursor(self, name: str | None = None) -> Any:
        if name:
            # psycopg2 builds the DECLARE itself, so a server-side cursor gets the path on a round
            # trip of its own. Such cursors are disabled behind a pooler (DB_BEHIND_TRANSACTION_POOLER).
            with self.connection.cursor() as setter:
                setter.execute(self.search_path_clause().replace("SET LOCAL", "SET", 1))
            return super().create_cursor(name)
        cursor = self.connection.cursor(cursor_factory=SearchPathCursor)
        cursor.path_owner = self
        cursor.tzinfo_factory = self.tzinfo_factory if settings.USE_TZ else None
        return cursor

    def _reset_path_tracking(self) -> None:
        self._path_in_transaction = None

    def close(self) -> None:
        self._reset_path_tracking()
        super().close()

    def rollback(self) -> None:
        self._reset_path_tracking()
        super().rollback()

    def savepoint_rollback(self, sid: str) -> None:
        # ROLLBACK TO SAVEPOINT also undoes a SET LOCAL made after the savepoint, so the next statement
        # must send the path again. Forget it after the rollback, not before: forgetting first made the
        # ROLLBACK TO SAVEPOINT itself carry the SET LOCAL, which the rollback then undid while the
        # tracking believed it in force (the next statement ran on the path from before the savepoint).
        # Forgotten even if the rollback fails, since the SET LOCAL may be gone either way.
        try:
            super().savepoint_rollback(sid)
        finally:
            self._reset_path_tracking()
