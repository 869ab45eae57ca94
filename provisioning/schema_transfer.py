"""Copying a shared tenant's schema into its dedicated database (the shared -> dedicated upgrade).

The dedicated database is migrated by the same code, so it has the same tables in `public`. Every
table of the schema is streamed with COPY (spooled to disk past a few MiB, so memory stays bounded)
into the target inside ONE transaction that first empties the target tables: a copy killed halfway
leaves nothing, and running it again starts from empty. While it copies, the source tables are locked
against writes (reads go on) so the copy is one consistent snapshot. Identity sequences continue from
the source's position, and every table's row count must match the source's before the target commits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

# The target keeps its own record of the migrations it was built with (the same code, so a superset).
SKIPPED_TABLES = frozenset({"django_migrations"})
SPOOL_BYTES = 8 * 1024 * 1024
# How long the copy waits for writers still in flight on the source before giving up (retry later).
LOCK_TIMEOUT = "30s"


class TransferRefused(Exception):
    """The schemas do not match (a table or column missing on one side), or the counts differ after
    the copy; the target was left as it was."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int


def _tables(cursor: Any, schema: str) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema])
    return [name for (name,) in cursor.fetchall() if name not in SKIPPED_TABLES]


def _columns(cursor: Any, schema: str, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position",
        [schema, table],
    )
    return [name for (name,) in cursor.fetchall()]


def _count(cursor: Any, schema: str, table: str) -> int:
    cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
    return int(cursor.fetchone()[0])


def _check_same_shape(source: Any, schema: str, target: Any, tables: list[str]) -> dict[str, list[str]]:
    """Each table's columns, refusing a target that lacks a table or whose columns differ."""
    target_tables = set(_tables(target, "public"))
    missing = [table for table in tables if table not in target_tables]
    if missing:
        raise TransferRefused(f"The dedicated database lacks tables of the schema: {', '.join(missing)}.")
    shapes = {}
    for table in tables:
        columns = _columns(source, schema, table)
        target_columns = _columns(target, "public", table)
        if set(columns) != set(target_columns):
            raise TransferRefused(
                f"Table {table} differs between the schema and the dedicated database "
                f"(columns only in the schema: {sorted(set(columns) - set(target_columns))}, only in the "
                f"target: {sorted(set(target_columns) - set(columns))}); migrate both to the same code first."
            )
        shapes[table] = columns
    return shapes


def _next_value(cursor: Any, sequence: str) -> int:
    cursor.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence)))
    last_value, is_called = cursor.fetchone()
    return int(last_value) + 1 if is_called else int(last_value)


def _move_sequences(source: Any, schema: str, target: Any, table: str, columns: list[str]) -> None:
    """Each identity sequence continues where the source's left off (ids of deleted rows are never
    handed out again), and past every copied id."""
    for column in columns:
        target.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'public."{table}"', column])
        (sequence,) = target.fetchone()
        if not sequence:
            continue
        source.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'"{schema}"."{table}"', column])
        (source_sequence,) = source.fetchone()
        source_next = _next_value(source, source_sequence) if source_sequence else 1
        target.execute(
            sql.SQL("SELECT GREATEST(COALESCE(MAX({col}), 0) + 1, %s) FROM public.{table}").format(
                col=sql.Identifier(column), table=sql.Identifier(table)
            ),
            [source_next],
        )
        (next_value,) = target.fetchone()
        target.execute("SELECT setval(%s, %s, false)", [sequence, next_value])


def copy_schema(
    source_connection: Any, schema: str, target_connection: Any, say: Callable[[str], None]
) -> list[TableCopy]:
    """Copy every table of `schema` (source) into `public` (target); returns each table's counts.

    Commits the target only if every count matches; raises TransferRefused otherwise. The source is
    only read, and its transaction is rolled back at the end (releasing the write lock)."""
    source_connection.autocommit = False
    target_connection.autocommit = False
    try:
        with source_connection.cursor() as source, target_connection.cursor() as target:
            source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            source.execute("SET LOCAL lock_timeout = %s", [LOCK_TIMEOUT])
            tables = _tables(source, schema)
            if not tables:
                raise TransferRefused(f"Schema {schema} has no tables to copy.")
            qualified = sql.SQL(", ").join(sql.Identifier(schema, table) for table in tables)
            # EXCLUSIVE: writers in flight finish first, new ones wait until the copy is over; reads go on.
            source.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(qualified))
            shapes = _check_same_shape(source, schema, target, tables)
            target.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier("public", table) for table in tables)
                )
            )
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at commit, so order is free.
            copies = []
            for table in tables:
                columns = sql.SQL(", ").join(sql.Identifier(column) for column in shapes[table])
                with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
                    source.copy_expert(
                        sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT WITH (FORMAT binary)")
                        .format(columns, sql.Identifier(schema, table))
                        .as_string(source),
                        spool,
                    )
                    spool.seek(0)
                    target.copy_expert(
                        sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)")
                        .format(sql.Identifier("public", table), columns)
                        .as_string(target),
                        spool,
                    )
                _move_sequences(source, schema, target, table, shapes[table])
                copy = TableCopy(table, _count(source, schema, table), _count(target, "public", table))
                say(f"{table}: {copy.source_rows} rows in the schema, {copy.target_rows} copied")
                copies.append(copy)
            mismatched = [c for c in copies if c.source_rows != c.target_rows]
            if mismatched:
                raise TransferRefused(
                    "Row counts differ: "
                    + ", ".join(f"{c.table} {c.source_rows} != {c.target_rows}" for c in mismatched)
                )
        target_connection.commit()
        return copies
    except BaseException:
        target_connection.rollback()
        raise
    finally:
        source_connection.rollback()
