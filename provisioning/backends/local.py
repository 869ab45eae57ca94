"""The `local` backend: a dedicated tenant's stack is its own database on the configured PostgreSQL
server, built by the same code in single-tenant mode (`TENANCY_MODE=dedicated` subprocesses of
manage.py), and taken down after a final pg_dump export."""

from __future__ import annotations

import json
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
from django_tenants.utils import get_public_schema_name, schema_exists
from psycopg2 import errors, sql
from psycopg2.extensions import encrypt_password

from provisioning import schema_transfer, stack_environment, stack_state
from provisioning.backends.base import Outcome, ProvisioningBackend, StepContext, StepFailed, StepSpec
from provisioning.management.commands.bootstrap_dedicated_owner import OWNER_ALREADY_PRESENT
from provisioning.management.commands.register_dedicated_store import STORE_FIELDS
from tenants import lifecycle
from tenants.models import Domain, Tenant
from tenants.routing import platform_url

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
def _connect(dbname: str) -> Iterator[Any]:
    """A plain connection (not autocommit) to database `dbname` on the platform's server, for the copy.

    The server checks every second that the worker is still there: a worker killed while its copy
    waits (for writers on the source, for a lock on the target) would otherwise leave the session
    holding the source's write lock and the target's half-done transaction until the wait ends."""
    server = _server()
    conn = psycopg2.connect(
        dbname=dbname,
        user=server["user"] or None,
        password=server["password"] or None,
        host=server["host"] or None,
        port=server["port"] or None,
        application_name="provisioning schema copy",
        options="-c client_connection_check_interval=1000",
    )
    try:
        yield conn
    finally:
        conn.close()


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


def database_url(name: str, *, user: str | None = None, password: str | None = None) -> str:
    """A URL of database `name` on the platform's server, as the platform's role unless `user` is given."""
    server = _server()
    if user is None:
        user, password = server["user"], server["password"]
    credentials = quote(user, safe="")
    if password:
        credentials += ":" + quote(password, safe="")
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


def media_root_for(slug: str) -> Path:
    """Where a dedicated store's stack on this machine keeps its files (its storage prefix is `public/`)."""
    return Path(settings.MEDIA_ROOT) / "dedicated" / slug


def dedicated_environment(slug: str, database: str) -> dict[str, str]:
    """The environment of a process of the store's stack: an allow-list of this one's, with its own
    secret key, its own database as its own role, its own publishing token for the platform's API, and
    its own files (see provisioning.stack_environment)."""
    role = stack_environment.stack_database_role(database)
    return {
        **stack_environment.inherited_environment(os.environ),
        **_stripe_environment(),
        # Everything comes from here: a .env file next to manage.py holds the platform's secrets.
        "READ_DOTENV": "0",
        "SECRET_KEY": stack_environment.stack_secret_key(slug, database),
        # Where and as whom it reaches the platform (listings, buyers' sign-ins, usage): this platform's own
        # address unless the operator names another.
        "MARKETPLACE_API_URL": os.environ.get("MARKETPLACE_API_URL") or platform_url(),
        "MARKETPLACE_PUBLISHING_TOKEN": stack_environment.stack_publishing_token(slug, database),
        "DATABASE_URL": database_url(database, user=role, password=stack_environment.stack_database_password(database)),
        "TENANCY_MODE": "dedicated",
        # Files stay on this machine under the stack's own root: no AWS credentials are handed over.
        "MEDIA_STORAGE": "filesystem",
        "MEDIA_ROOT": str(media_root_for(slug)),
        "PYTHONUNBUFFERED": "1",
        # The platform's front proxy (tenants.stack_proxy) adds one hop: the stack trusts the platform's
        # proxies and the platform itself, so its throttles and lockouts see the buyer's address.
        "NUM_PROXIES": str(int(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0) + 1),
    }


def _stripe_environment() -> dict[str, str]:
    """Card payments on the stack, with the key made for stacks (DEDICATED_STRIPE_SECRET_KEY), never the
    platform's own, and Stripe's public addresses. Nothing without that key: the store offers no cards."""
    if not settings.DEDICATED_STRIPE_SECRET_KEY:
        return {}
    return {
        "STRIPE_SECRET_KEY": settings.DEDICATED_STRIPE_SECRET_KEY,
        "STRIPE_API_BASE": settings.STRIPE_API_BASE,
        "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
        "STRIPE_JS_URL": settings.STRIPE_JS_URL,
    }


def _ensure_stack_role(conn: Any, database: str) -> None:
    """The stack's login role (see dedicated_environment), with its current password."""
    role = stack_environment.stack_database_role(database)
    # Hashed here (SCRAM): the password never reaches the server's statement log.
    hashed = encrypt_password(stack_environment.stack_database_password(database), role, conn)
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        verb = "ALTER" if cursor.fetchone() is not None else "CREATE"
        statement = sql.SQL(verb + " ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %s")
        try:
            cursor.execute(statement.format(sql.Identifier(role)), [hashed])
        except errors.DuplicateObject:
            cursor.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD %s").format(sql.Identifier(role)), [hashed])


def run_manage_py(ctx: StepContext, database: str, *args: str, stdin: str = "") -> str:
    """manage.py in single-tenant mode against the tenant's own database: the same code as the platform."""
    ctx.secret(_server()["password"])
    env = dedicated_environment(ctx.tenant.slug, database)
    return run_command(ctx, f"manage.py {args[0]}", [sys.executable, str(MANAGE_PY), *args], env=env, stdin=stdin)


# --- provision -------------------------------------------------------------------------------------


def create_database(ctx: StepContext) -> Outcome:
    name = database_name_for(ctx.tenant.slug)
    # On record before it exists: a run that dies right after CREATE still knows what to clean up.
    lifecycle.record_database(ctx.tenant, name, by=lifecycle.Actor.system("provisioning"))
    ctx.remember(database=name)
    role = sql.Identifier(stack_environment.stack_database_role(name))
    with server_connection() as conn, conn.cursor() as cursor:
        _ensure_stack_role(conn, name)
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is not None:
            # Owned by the stack's role even if an earlier run made it before the role existed.
            cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), role))
            ctx.say(f"Database {name} already exists; nothing to create.")
            return Outcome.ALREADY_DONE
        try:
            # Its role owns it, and so (PostgreSQL 15+) its `public` schema: the stack migrates and runs as it.
            cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), role))
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
    # The hash goes on stdin: never on a command line, in the environment or in the log. So does the
    # email: a merchant's text is never an argument.
    owner = json.dumps({"email": tenant.owner_email, "password_hash": password_hash})
    output = run_manage_py(ctx, database, "bootstrap_dedicated_owner", stdin=owner)
    # Only the dedicated database holds the owner's credentials from now on.
    Tenant.objects.filter(pk=tenant.pk).update(pending_owner_password="")
    return Outcome.ALREADY_DONE if output.endswith(OWNER_ALREADY_PRESENT) else Outcome.DONE


def register_store(ctx: StepContext) -> Outcome:
    """Record the store and its hostnames in its own database: there, routing finds it by host."""
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    domains = list(
        Domain.objects.filter(tenant=tenant).order_by("-is_primary", "domain").values_list("domain", flat=True)
    )
    record = {field: getattr(tenant, field) for field in STORE_FIELDS}
    output = run_manage_py(
        ctx, _tenant_database(ctx), "register_dedicated_store", stdin=json.dumps({**record, "domains": domains})
    )
    return Outcome.ALREADY_DONE if "already registered" in output else Outcome.DONE


def copy_shared_data(ctx: StepContext) -> Outcome:
    """Copy the shared schema's every row into the dedicated database (closed store, one transaction on
    the target, counts verified); a replay empties the target tables and copies again."""
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    if not schema_exists(tenant.schema_name):
        raise StepFailed(f"The shared schema {tenant.schema_name} does not exist; nothing to copy from.")
    if tenant.status != Tenant.Status.MIGRATING:
        raise StepFailed(f"The store is {tenant.status}, not closed for migrating; its data could still change.")
    target_name = _tenant_database(ctx)
    ctx.secret(_server()["password"])
    with _connect(_server()["maintenance_db"]) as source, _connect(target_name) as target:
        try:
            copies = schema_transfer.copy_schema(source, tenant.schema_name, target, ctx.say)
        except schema_transfer.TransferRefused as error:
            raise StepFailed(str(error)) from error
    files = Path(settings.MEDIA_ROOT) / tenant.schema_name
    if files.is_dir():
        # Uploaded files follow (filesystem storage): kept in the shared media too until the upgrade is confirmed.
        shutil.copytree(files, media_root_for(tenant.slug) / get_public_schema_name(), dirs_exist_ok=True)
        ctx.say(f"Copied the store's files from {files}.")
    total = sum(copy.target_rows for copy in copies)
    ctx.remember(row_counts={copy.table: copy.target_rows for copy in copies})
    ctx.say(f"Copied {total} rows in {len(copies)} tables from {tenant.schema_name} to {target_name}; counts match.")
    return Outcome.DONE


def verify_health(ctx: StepContext) -> Outcome:
    tenant = Tenant.objects.get(pk=ctx.tenant.pk)
    owner = json.dumps({"owner_email": tenant.owner_email})
    run_manage_py(ctx, _tenant_database(ctx), "verify_dedicated_stack", stdin=owner)
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
        role = stack_environment.stack_database_role(name)
        cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    ctx.say(f"Dropped database {name} and its role.")
    return Outcome.DONE


class LocalBackend(ProvisioningBackend):
    name = "local"

    def provision_steps(self) -> list[StepSpec]:
        return [
            StepSpec("create_database", "Create the dedicated database", create_database),
            StepSpec("migrate_database", "Migrate it (single-tenant mode)", migrate_database),
            StepSpec("bootstrap_owner", "Bootstrap the owner account", bootstrap_owner),
            StepSpec("register_store", "Register the store and its hostnames in its database", register_store),
            StepSpec("verify_health", "Verify health", verify_health),
            StepSpec("switch_routing", "Switch routing: the store goes live", stack_state.switch_routing, True),
        ]

    def upgrade_steps(self) -> list[StepSpec]:
        return [
            StepSpec("create_database", "Create the dedicated database", create_database),
            StepSpec("migrate_database", "Migrate it (single-tenant mode)", migrate_database),
            StepSpec("close_shared_store", "Close the shared store for the copy", stack_state.close_shared_store),
            StepSpec("copy_shared_data", "Copy the shared schema's data (row counts verified)", copy_shared_data),
            StepSpec("register_store", "Register the store and its hostnames in its database", register_store),
            StepSpec("verify_health", "Verify health", verify_health),
            StepSpec("switch_routing", "Switch routing: the store goes live", stack_state.switch_routing, True),
        ]

    def deprovision_steps(self) -> list[StepSpec]:
        return [
            StepSpec("export_database", "Final export (pg_dump)", export_database),
            StepSpec("drop_database", "Drop the dedicated database", drop_database, True),
            StepSpec("record_deprovisioned", "Record the tenant as deprovisioned", stack_state.record_deprovisioned),
        ]
