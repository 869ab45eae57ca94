"""Run a dedicated store's own web stack on this machine (the `local` backend's serving): gunicorn with
the same code in single-tenant mode (`TENANCY_MODE=dedicated`) on the store's own database. The port is
bound here (a free one by default) and handed to gunicorn, then recorded as the store's upstream in the
registry, so the platform's front proxy sends the store's hostnames to it. Stopping it (Ctrl-C, SIGTERM)
stops gunicorn and withdraws the upstream; the store's host then answers that it is not served."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning.backends.local import _die_with_parent, database_exists, dedicated_environment
from storefront.marketplace.services import register_publishing_token
from tenants import lifecycle
from tenants.models import Tenant

ACTOR = lifecycle.Actor.system("serve_dedicated")
GUNICORN_CONFIG = Path(settings.BASE_DIR) / "config" / "gunicorn.py"


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve a live dedicated store's hostnames from its own database (gunicorn, single-tenant mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--bind", default="127.0.0.1:0", help="host:port to listen on (port 0: a free one)")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--with-worker", action="store_true", help="also run the stack's own Celery worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TENANCY_MODE != "shared":
            raise CommandError("Run this from the platform (TENANCY_MODE=shared): it reads the tenant registry.")
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None or not tenant.is_dedicated or not tenant.database_name:
            raise CommandError(f"'{options['slug']}' is not a dedicated store with a database of its own.")
        if not database_exists(tenant.database_name):
            raise CommandError(f"The database {tenant.database_name} does not exist.")
        host, _, port = options["bind"].rpartition(":")
        listener = socket.create_server((host or "127.0.0.1", int(port or 0)))
        listener.set_inheritable(True)
        address, bound_port = listener.getsockname()[:2]
        upstream = f"http://{address}:{bound_port}"
        env = dedicated_environment(tenant.slug, tenant.database_name)
        # A stop that comes while the stack starts (a supervisor changing its mind) still cleans up.
        signal.signal(signal.SIGTERM, _stop)
        processes: list[subprocess.Popen[bytes]] = []
        registered = False
        try:
            # The stack calls the platform with a publishing token of its own (dedicated_environment): make it
            # the store's, so its listings, buyers' sign-ins and Connect events are accepted for this store only.
            register_publishing_token(tenant, env["MARKETPLACE_PUBLISHING_TOKEN"])
            # The socket already listens: requests that arrive while gunicorn boots wait in its backlog.
            web = [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(GUNICORN_CONFIG),
                "--bind",
                f"fd://{listener.fileno()}",
            ]
            web += ["--workers", str(options["workers"]), "config.wsgi:application"]
            processes.append(subprocess.Popen(_die_with_parent(web), env=env, pass_fds=[listener.fileno()]))  # noqa: S603
            if options["with_worker"]:
                worker = [
                    sys.executable,
                    "-m",
                    "celery",
                    "--app",
                    "config",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "INFO",
                ]
                processes.append(subprocess.Popen(_die_with_parent(worker), env=env))  # noqa: S603
            listener.close()
            lifecycle.set_upstream(tenant, upstream, by=ACTOR)
            registered = True
            self.stdout.write(f"serving {tenant.slug} from database {tenant.database_name} at {upstream}", ending="\n")
            self.stdout.flush()
            processes[0].wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            if registered:
                # Withdrawn only if still ours: another serve_dedicated may have taken over meanwhile.
                lifecycle.set_upstream(tenant, "", by=ACTOR, replacing=upstream)
