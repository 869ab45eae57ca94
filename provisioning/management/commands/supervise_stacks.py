"""Serve every live dedicated store of the local backend, each from its own `serve_dedicated` stack, until
stopped (Ctrl-C or SIGTERM stops them all). `make dev` runs it; see provisioning.stack_supervisor."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from provisioning.stack_supervisor import StackSupervisor


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start, restart and stop the local dedicated stacks so that every live dedicated store is served."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks at the registry")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TENANCY_MODE != "shared" or settings.PROVISIONING_BACKEND != "local":
            raise CommandError("Stacks are supervised here only for the local backend, from the platform.")
        supervisor = StackSupervisor()
        signal.signal(signal.SIGTERM, _stop)
        served: set[str] = set()
        try:
            while True:
                supervisor.sync()
                connections.close_all()  # nothing held between looks
                if (now := supervisor.running()) != served:
                    self.stdout.write(f"dedicated stacks running: {', '.join(sorted(now)) or 'none'}")
                    served = now
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass
        finally:
            supervisor.stop_all()
