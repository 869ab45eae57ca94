"""The `local` backend: a dedicated tenant's stack is its own database on the configured PostgreSQL
server, built by the same code in single-tenant mode (`TENANCY_MODE=dedicated` subprocesses of
manage.py), and taken down after a final pg_dump export."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
from django.conf import settings
from psycopg2 import errors, sql

from provisioning import stack_state
from provisioning.backends.base import Outcome, ProvisioningBackend, StepContext, StepFailed, StepSpec
from provisioning.management.commands.bootstrap_dedicated_owner import OWNER_ALREADY_PRESENT
from tenants.models import Tenant

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"
# PostgreSQL's identifier limit.
MAX_NAME_LENGTH = 63


def database_name_for(slug: str) -> str:
    name = f"{settings.PROVISIONING_DATABASE_PREFIX}{slug.replace('-', '_')}"
    if len(name) > MAX_NAME_LENGTH:
        raise StepFailed(f"Database name '{name}' is longer than PostgreSQL's {MAX_NAME_LENGTH} characters.")
    return name


def _server() -> dict[str, Any]:
    """Where dedicated databases are made: the server (and role) of the platform's own database."""
    default = settings.DATABASES["default"]
    return {
        "host": default.get("HOST") or "",
        "port": str(default.get("PORT") or ""),
        "user": default.get("USER") or "",
        "password": default.get("PASSWORD") or "",
        "maintenance_db": default["NAME"],
    }


@contextmanager
def server_connection() -> Iterator[Any]:
    """An autocommit connection to the server, for CREATE/DROP DATABASE (not allowed in a transaction)."""
    server = _server()
    conn = psycopg2.connect(
        dbname=server["maintenance_db"],
        user=server["user"] or None,
        password=server["password"] or None,
        host=server["host"] or None,
        port=server["port"] or None,
    )
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def database_exists(name: str) -> bool:
    with server_connection() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def database_url(name: str) -> str:
    server = _server()
    credentials = quote(server["user"], safe="")
    if server["password"]:
        credentials += ":" + quote(server["password"], safe="")
    host = server["host"] or "localhost"
    port = f":{server['port']}" if server["port"] else ""
    return f"postgres://{credentials}@{host}{port}/{name}"


def _pg_environment() -> dict[str, str]:
    """libpq's variables for pg_dump, so the password never appears on a command line."""
    server = _server()
    pg = {"PGHOST": server["host"], "PGPORT": server["port"], "PGUSER": server["user"]}
    if server["password"]:
        pg["PGPASSWORD"] = server["password"]
    return {**os.environ, **{key: value for key, value in pg.items() if value}}


def _die_with_parent(command: list[str]) -> list[str]:
    # A killed worker must not leave its migrate running: the resumed run would race it. setpriv
    # (util-linux) asks the kernel to SIGKILL the child when the thread that started it dies.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


def run_command(ctx: StepContext, what: str, command: list[str], *, env: dict[str, str], stdin: str = "") -> str:
    """Run `command`, logging its output to the step; a non-zero exit fails the step. Returns stdout."""
    ctx.say("$ " + " ".join(command))
    try:
        completed = subprocess.run(
            _die_with_parent(command),
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=settings.PROVISIONING_STEP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise StepFailed(f"{what} timed out after {settings.PROVISIONING_STEP_TIMEOUT} s.") from error
    output = (completed.stdout + completed.stderr).strip()
    if output:
        ctx.say(output)
    if completed.returncode != 0:
        last = output.splitlines()[-1] if output else "no output"
        raise StepFailed(f"{what} exited with {completed.returncode}: {last}")
    return completed.stdout.strip()


def run_manage_py(ctx: StepContext, database: str, *args: str, stdin: str = "") -> str:
    """manage.py in single-tenant mode against the tenant's own database: the same code as the platform."""
    ctx.secret(_server()["password"])
    env = {**os.environ, "DATABASE_URL": database_url(database), "TENANCY_MODE": "dedicated", "PYTHONUNBUFFERED": "1"}
    return run_command(ctx, f"manage.py {args[0]}", [sys.executable, str(MANAGE_PY), *args], env=env, stdin=stdin)


# --- provision -------------------------------------------------------------------------------------


def create_database(ctx: StepContext) -> Outcome:
    name = database_name_for(ctx.tenant.slug)
    # On record before it exists: a run that dies right after CREATE still knows what to clean up.
    Tenant.objects.filter(pk=ctx.tenant.pk).update(database_name=name)
    ctx.remember(database=name)
    with server_connection() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is not None:
            ctx.say(f"Database {name} already exists; nothing to create.")
            return Outcome.ALREADY_DONE
        try:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except errors.DuplicateDatabase:
            ctx.say(f"Database {name} was created meanwhile; nothing to create.")
            return Outcome.ALREADY_DONE
    ctx.say(f"Created database {name} on {_server()['host'] or 'the local socket'}.")
    return Outcome.DONE


def _tenant_database(ctx: StepContext) -> str:
    name = Tenant.objects.values_list("database_name", flat=True).get(pk=ctx.tenant.pk)
    if not name or not database_exists(name):
        raise StepFailed(f"The dedicated database '{name or '?'}' does not exist; run the create step again.")
    return name


def migrate_database(ctx: StepContext) -> Outcome:
    # Django's migrate is idempotent: a second run applies nothing.
    run_manage_py(ctx, _tenant_database(ctx), "migrate", "--noinput")
    return Outcome.DONE


def bootstrap_owner(ctx: StepContext) -> Outcome:
    database = _tenant_database(ctx)
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    password_hash = ctx.secret(tenant.pending_owner_password)
    # The hash goes on stdin: never on a command line, in the environment or in the log.
    output = run_manage_py(
        ctx, database, "bootstrap_dedicated_owner", "--email", tenant.owner_email, stdin=password_hash
    )
    # Only the dedicated database holds the owner's credentials from now on.
    Tenant.objects.filter(pk=tenant.pk).update(pending_owner_password="")
    return Outcome.ALREADY_DONE if output.endswith(OWNER_ALREADY_PRESENT) else Outcome.DONE


def verify_health(ctx: StepContext) -> Outcome:
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    run_manage_py(ctx, _tenant_database(ctx), "verify_dedicated_stack", "--owner-email", tenant.owner_email)
    return Outcome.DONE


# --- deprovision -----------------------------------------------------------------------------------


def export_path(ctx: StepContext) -> Path:
    # Named after the run, not the clock: a retried export finds its own finished file.
    stamp = ctx.run.created_at.strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.PROVISIONING_EXPORT_DIR) / f"{ctx.tenant.slug}-{stamp}.sql"


def export_database(ctx: StepContext) -> Outcome:
    target = export_path(ctx)
    name = Tenant.objects.values_list("database_name", flat=True).get(pk=ctx.tenant.pk)
    if target.exists():
        ctx.remember(export=str(target))
        ctx.say(f"Final export {target} already written.")
        return Outcome.ALREADY_DONE
    if not name or not database_exists(name):
        ctx.say("No dedicated database exists; nothing to export.")
        return Outcome.ALREADY_DONE
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed when complete, so a crash mid-dump never leaves a file that looks final.
    partial = target.with_suffix(".sql.partial")
    try:
        run_command(
            ctx,
            "pg_dump",
            ["pg_dump", "--no-owner", "--no-privileges", "--file", str(partial), name],
            env=_pg_environment(),
        )
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    ctx.remember(export=str(target))
    ctx.say(f"Exported {name} to {target} ({target.stat().st_size} bytes).")
    return Outcome.DONE


def drop_database(ctx: StepContext) -> Outcome:
    name = Tenant.objects.values_list("database_name", flat=True).get(pk=ctx.tenant.pk)
    if not name or not database_exists(name):
        ctx.say("No dedicated database exists; nothing to drop.")
        return Outcome.ALREADY_DONE
    with server_connection() as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    ctx.say(f"Dropped database {name}.")
    return Outcome.DONE


class LocalBackend(ProvisioningBackend):
    name = "local"

    def provision_steps(self) -> list[StepSpec]:
        return [
            StepSpec("create_database", "Create the dedicated database", create_database),
            StepSpec("migrate_database", "Migrate it (single-tenant mode)", migrate_database),
            StepSpec("bootstrap_owner", "Bootstrap the owner account", bootstrap_owner),
            StepSpec("verify_health", "Verify health", verify_health),
            StepSpec("switch_routing", "Switch routing: the store goes live", stack_state.switch_routing, True),
        ]

    def deprovision_steps(self) -> list[StepSpec]:
        return [
            StepSpec("export_database", "Final export (pg_dump)", export_database),
            StepSpec("drop_database", "Drop the dedicated database", drop_database, True),
            StepSpec("record_deprovisioned", "Record the tenant as deprovisioned", stack_state.record_deprovisioned),
        ]
