"""A dedicated store's own web stack for tests: `manage.py serve_dedicated <slug>` as a real process
(gunicorn in single-tenant mode on the store's own database), started against this test database's
registry and stopped with SIGTERM as an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from provisioning.backends.local import database_url
from tenants.models import Tenant

REPO = Path(settings.BASE_DIR)
STARTUP_SECONDS = 60


def platform_environment() -> dict[str, str]:
    """The environment of a platform command run by a test: the registry it reads and writes is this test
    database's."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
        "PROVISIONING_DATABASE_PREFIX": settings.PROVISIONING_DATABASE_PREFIX,
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "warning",
    }


@contextmanager
def serving(slug: str, log_dir: Path) -> Iterator[str]:
    """Serve `slug` from its database until the block ends; yields the stack's upstream URL."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"serve-{slug}.log"
    env = platform_environment()
    command = [sys.executable, str(REPO / "manage.py"), "serve_dedicated", slug, "--workers", "1"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        upstream = _wait_until_serving(slug, process, log)
        yield upstream
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(slug: str, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve_dedicated exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        upstream = Tenant.objects.values_list("upstream_url", flat=True).get(slug=slug)
        if upstream:
            try:
                with urllib.request.urlopen(f"{upstream}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return upstream
            except OSError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"{slug}'s stack not serving within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")
