"""``make dev``: the whole platform on one machine, with no servers to install.

Resolves a database (DATABASE_URL, else an embedded PostgreSQL under var/), migrates it, fills the
schema pool, seeds the platform admin and demo stores, then runs the web server, a Celery worker and
Celery beat as child processes until Ctrl-C or SIGTERM, which it passes on to each of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import environ
import psycopg2

from devtools import embedded_postgres

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
# Development defaults; the environment and .env win over them.
DEV_DEFAULTS = {
    "DEBUG": "1",
    "PLATFORM_DOMAIN": "localhost",
    "PLATFORM_URL_PORT": "8000",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
}
# How long children get to finish their work (a Celery task, a request) before they are killed.
STOP_GRACE_SECONDS = 15.0


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    # runserver's autoreloader runs the server in a grandchild, so it is signalled as a process group;
    # a Celery worker is signalled alone, so that it shuts its pool down warmly itself.
    signal_group: bool

    def send(self, signum: int) -> None:
        if self.process.poll() is not None:
            return
        try:
            if self.signal_group:
                os.killpg(self.process.pid, signum)
            else:
                self.process.send_signal(signum)
        except ProcessLookupError:
            pass


def prepare_environment() -> bool:
    """Fill os.environ for settings and children. Returns True when this run started the embedded server."""
    # Read .env first so that its values win over the development defaults, as they do in settings.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    for name, value in DEV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    VAR_DIR.mkdir(exist_ok=True)
    if url := os.environ.get("DATABASE_URL"):
        say("database: DATABASE_URL from the environment")
        try:
            embedded_postgres.ensure_database_at(url)
        except psycopg2.Error as error:
            # Not fatal: the user may lack CREATEDB on a database that exists; migrate says what is wrong.
            say(f"could not check or create the database: {str(error).strip()}")
        return False
    already_running = embedded_postgres.embedded_server_is_running()
    say(f"database: embedded PostgreSQL in {embedded_postgres.PGDATA.relative_to(BASE_DIR)}")
    os.environ["DATABASE_URL"] = embedded_postgres.database_url(embedded_only=True)
    return not already_running


def prepare_database() -> None:
    """Migrate, make the template schema and the pool, collect static files if needed, seed the demo."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
    from django.core.management import call_command
    from django.db import connections

    from devtools.demo import seed_demo_marketplace
    from tenants import schema_pool

    say("migrating the public schema")
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=1)
    say("template schema")
    schema_pool.ensure_template_schema(verbosity=1)
    # The template, the pool and existing stores follow new tenant migrations, or new stores would
    # start behind and old ones break; a no-op run is one query.
    say("migrating the template, the pool and the stores")
    call_command("migrate_tenants")
    say(f"filling the schema pool to {settings.TENANT_POOL_SIZE}")
    schema_pool.refill_schema_pool()
    if isinstance(staticfiles_storage, ManifestFilesMixin):
        # Hashed (manifest) static files exist only once collected; otherwise runserver and
        # whitenoise serve the source files straight from the finders.
        say("collecting static files")
        call_command("collectstatic", interactive=False, verbosity=0)
    say("demo data")
    outcome = seed_demo_marketplace()
    say(
        f"platform admin {'created' if outcome.admin_created else 'already there'}; "
        f"stores created: {', '.join(outcome.stores_created) or 'none'}; products added: {outcome.products_created}"
    )
    # The children open their own connections; this process needs none while it waits.
    connections.close_all()


def start_children(children: list[Child]) -> None:
    """Start web, worker and beat, adding each to `children` at once so a stop signal finds it."""
    port = os.environ["PLATFORM_URL_PORT"]
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    commands = [
        ("web", [sys.executable, "manage.py", "runserver", f"0.0.0.0:{port}"], True),
        ("worker", [*celery, "worker", "-l", "info", "--concurrency", "2"], False),
        ("beat", [*celery, "beat", "-l", "info", "-s", str(VAR_DIR / "celerybeat-schedule")], False),
    ]
    if os.environ.get("PROVISIONING_BACKEND", "local") == "local":
        # Every live dedicated store served by its own stack (started, restarted, stopped with the rest).
        commands.append(("stacks", [sys.executable, "manage.py", "supervise_stacks"], False))
    for name, command, signal_group in commands:
        # A session of its own: a Ctrl-C in the terminal reaches only this process, which then stops
        # each child once (a second SIGINT would make Celery drop its running tasks).
        process = subprocess.Popen(command, cwd=BASE_DIR, start_new_session=True)
        children.append(Child(name, process, signal_group))


def is_serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http:// URL
            return response.status == 200
    except OSError:
        return False


def print_banner() -> None:
    from django.conf import settings

    from devtools.demo import DEMO_DEDICATED_STORE, DEMO_STORES, demo_logins
    from tenants.routing import platform_url, store_url

    root = platform_url()
    rows = [
        ("Marketplace and signup", root),
        ("Staff console", f"{root}console/"),
        ("Platform admin", f"{root}admin/"),
        ("API docs", f"{root}api/docs/"),
    ]
    rows += [(store.name, store_url(store.subdomain)) for store in DEMO_STORES]
    rows.append((f"{DEMO_DEDICATED_STORE.name} (dedicated)", store_url(DEMO_DEDICATED_STORE.subdomain)))
    rows += [(f"{store.name} admin", f"{store_url(store.subdomain)}admin/") for store in DEMO_STORES]
    lines = ["", "LocalBazaar is running. Ctrl-C stops it.", ""]
    lines += [f"  {label:<26} {url}" for label, url in rows]
    lines += ["", "  Logins (email / password):"]
    lines += [f"    {email} / {password}   at {where}" for where, email, password in demo_logins()]
    lines += [
        "",
        f"  Database: {settings.DATABASES['default']['NAME']} ({os.environ['DATABASE_URL']})",
        f"  Broker:   {settings.CELERY_BROKER_URL}",
        f"  Stores are at <slug>.{settings.PLATFORM_DOMAIN}; browsers resolve *.localhost to 127.0.0.1.",
        f"  With curl: curl -H 'Host: bakery.{settings.PLATFORM_DOMAIN}:{settings.PLATFORM_URL_PORT}' {root}",
        "",
    ]
    print("\n".join(lines), flush=True)


def stop_children(children: list[Child]) -> None:
    for child in children:
        child.send(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        try:
            child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop in {STOP_GRACE_SECONDS:.0f}s; killing it")
    for child in children:
        # Also reaps what a child left behind in its group (runserver's reloaded server, pool processes).
        try:
            os.killpg(child.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.process.wait()


def supervise(children: list[Child]) -> int:
    """Wait for a stop signal or for a child to die; either way stop them all. Returns the exit status."""
    stop_requested: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    health_url = f"http://127.0.0.1:{os.environ['PLATFORM_URL_PORT']}/healthz"
    started = time.monotonic()
    banner_printed = False
    exit_status = 0
    while not stop_requested:
        dead = [child for child in children if child.process.poll() is not None]
        if dead:
            say(f"{dead[0].name} exited with status {dead[0].process.returncode}; stopping the rest")
            exit_status = 1
            break
        # The banner comes once the web server answers, so it is not lost in the start-up logs.
        if not banner_printed and (is_serving(health_url) or time.monotonic() - started > 60):
            print_banner()
            banner_printed = True
        time.sleep(0.5)
    say("stopping web, worker, beat and the dedicated stacks")
    stop_children(children)
    return exit_status


def stop_setup(signum: int, frame: FrameType | None) -> None:
    # SIGTERM during setup unwinds like Ctrl-C, so the embedded server is stopped on the way out.
    raise KeyboardInterrupt


def main() -> int:
    os.chdir(BASE_DIR)
    signal.signal(signal.SIGTERM, stop_setup)
    try:
        started_database = prepare_environment()
    except embedded_postgres.EmbeddedPostgresError as error:
        say(f"{error}; set DATABASE_URL to use another PostgreSQL")
        return 1
    children: list[Child] = []
    try:
        prepare_database()
        start_children(children)
        return supervise(children)
    except KeyboardInterrupt:
        stop_children(children)
        return 130
    finally:
        if started_database:
            # Leave the machine as we found it: a server that was already running stays up.
            say("stopping the embedded PostgreSQL")
            embedded_postgres.stop_embedded_server()


if __name__ == "__main__":
    sys.exit(main())
