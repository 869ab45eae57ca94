"""The local backend's stack supervisor: every live dedicated store of this machine served by its own
`manage.py serve_dedicated` process, as long as it is live.

`make dev` runs it (`manage.py supervise_stacks`) beside the web server and the workers. Each pass reads the
registry: a store that went live (a provisioning run finished, or the machine restarted) gets its stack
started; one that is taken down, rejected or being moved has its stack stopped; a stack that died is
started again after a pause that doubles up to a minute, so one that cannot start does not spin. Suspended
stores keep their stack: the platform's front proxy refuses their hostnames, and reactivation is immediate.
Stopping the supervisor stops every stack (each withdraws its upstream on the way out).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from provisioning.backends.local import _die_with_parent
from tenants.models import Tenant

logger = logging.getLogger(__name__)

SERVED_STATUSES = (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED)
FIRST_PAUSE_SECONDS = 2.0
LONGEST_PAUSE_SECONDS = 60.0
STOP_GRACE_SECONDS = 30.0


def live_stacks() -> set[str]:
    """Slugs of the dedicated stores that should be served here now."""
    rows = Tenant.objects.filter(tenancy=Tenant.Tenancy.DEDICATED, status__in=SERVED_STATUSES).exclude(database_name="")
    databases = dict(rows.values_list("database_name", "slug"))
    if not databases:
        return set()
    # The local backend's databases are on the platform's own server: one query, no connection of its own.
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [list(databases)])
        return {databases[name] for (name,) in cursor.fetchall()}


def serve_command(slug: str) -> list[str]:
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    return [sys.executable, manage, "serve_dedicated", slug, "--workers", "1", "--with-worker"]


@dataclass
class Stack:
    slug: str
    process: subprocess.Popen[bytes] | None = None
    failures: int = 0
    not_before: float = 0.0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class StackSupervisor:
    """Starts and stops `serve_dedicated` children to match `wanted()`; call `sync()` on a timer."""

    wanted: Callable[[], set[str]] = live_stacks
    command: Callable[[str], list[str]] = serve_command
    clock: Callable[[], float] = time.monotonic
    environment: dict[str, str] | None = None  # the children's; None: this process's own
    stacks: dict[str, Stack] = field(default_factory=dict)

    def sync(self) -> None:
        wanted = self.wanted()
        for slug in sorted(set(self.stacks) - wanted):
            self._stop(self.stacks.pop(slug))
        now = self.clock()
        for slug in sorted(wanted):
            stack = self.stacks.setdefault(slug, Stack(slug))
            if stack.running:
                continue
            if stack.process is not None:  # it was started and has died
                stack.failures += 1
                pause = min(FIRST_PAUSE_SECONDS * 2 ** (stack.failures - 1), LONGEST_PAUSE_SECONDS)
                stack.not_before = now + pause
                logger.warning(
                    "dedicated stack exited; starting it again",
                    extra={"tenant": slug, "status": stack.process.returncode, "pause_s": pause},
                )
                stack.process = None
            if now >= stack.not_before:
                stack.process = subprocess.Popen(_die_with_parent(self.command(slug)), env=self.environment)  # noqa: S603
                logger.info("dedicated stack started", extra={"tenant": slug, "pid": stack.process.pid})

    def running(self) -> set[str]:
        return {slug for slug, stack in self.stacks.items() if stack.running}

    def stop_all(self) -> None:
        for slug in sorted(self.stacks):
            self._stop(self.stacks[slug], wait=False)
        deadline = self.clock() + STOP_GRACE_SECONDS
        for stack in self.stacks.values():
            self._reap(stack, max(deadline - self.clock(), 0.1))
        self.stacks.clear()

    def _stop(self, stack: Stack, *, wait: bool = True) -> None:
        if stack.running:
            assert stack.process is not None
            stack.process.send_signal(signal.SIGTERM)  # serve_dedicated stops its children, withdraws the upstream
            logger.info("dedicated stack stopping", extra={"tenant": stack.slug})
        if wait:
            self._reap(stack, STOP_GRACE_SECONDS)

    @staticmethod
    def _reap(stack: Stack, timeout: float) -> None:
        if stack.process is None:
            return
        try:
            stack.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
