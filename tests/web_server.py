"""The real app as other processes serve it: gunicorn started from this test database's settings,
waited for until it answers, and stopped by its own handle. Tests that need what one process cannot
show (per-process memory, connection pools, routing caches) talk to it over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 20.0
HTTP_TIMEOUT = 30.0


def own_database_url() -> str:
    """This test run's database, as another process (gunicorn, a worker) connects to it."""
    params = connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a child this module started (by its own handle, never by name)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass(frozen=True)
class Server:
    label: str
    port: int
    log: Path
    pid: int  # gunicorn's master

    def worker_pids(self) -> list[int]:
        """The master's live workers (it forks a new one for each that dies)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return [int(child) for child in children]


@contextmanager
def app_server(
    label: str,
    database_url: str,
    workdir: Path,
    conn_max_age: int,
    settings_module: str = "config.settings",
    workers: int = 2,
    threads: int = 8,
    behind_pooler: bool = True,
    env_overrides: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """The real app under gunicorn (gthread) on `database_url` (a transaction pooler's unless
    `behind_pooler` is False), with `env_overrides` on top of this process's environment."""
    port = free_port()
    log = workdir / f"gunicorn-{label}.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DB_BEHIND_TRANSACTION_POOLER": "1" if behind_pooler else "0",
        # settings.py sets CONN_MAX_AGE from this, overriding any value in DATABASE_URL.
        "DB_CONN_MAX_AGE": str(conn_max_age),
        "DEBUG": "0",
        "PLATFORM_DOMAIN": "localhost",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)]),
        **(env_overrides or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        "--timeout=60",
        "--graceful-timeout=3",
        "--log-level=warning",
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn ({label}) exited with {process.returncode}:\n{log_tail(log)}")
            try:
                status, _ = request(port, "GET", "localhost", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn ({label}) not ready within {STARTUP_TIMEOUT}s:\n{log_tail(log)}")
            time.sleep(0.1)
        yield Server(label=label, port=port, log=log, pid=process.pid)
    finally:
        stop_process(process)


def request(
    port: int,
    method: str,
    host: str,
    path: str,
    token: str | None = None,
    body: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """One HTTP request on a fresh connection (no keep-alive surprises between hammer rounds)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    headers = {"Host": host, "Accept": "application/json", "Connection": "close", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        payload = json.dumps(body)
    try:
        client.request(method, path, body=payload, headers=headers)
        response = client.getresponse()
        raw = response.read()
        if "json" in (response.getheader("Content-Type") or "") and raw:
            return response.status, json.loads(raw)
        return response.status, raw.decode(errors="replace")[:300]
    finally:
        client.close()
