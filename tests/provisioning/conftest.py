"""Provisioning fixtures: dedicated databases named with a prefix unique to this test database (and
dropped after each test), final exports in a temporary folder, a staff API client, a real worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import pytest
from django.db import connection
from psycopg2 import sql

from provisioning.models import ProvisioningRun
from tests.conftest import STAFF_EMAIL, STRONG_PASSWORD  # noqa: F401 - STAFF_EMAIL re-exported


def server_connection(dbname: str | None = None) -> Any:
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    if dbname:
        params["dbname"] = dbname
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


def databases_with_prefix(prefix: str) -> set[str]:
    conn = server_connection()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
            return {name for (name,) in cursor.fetchall()}
    finally:
        conn.close()


def drop_databases(names: set[str]) -> None:
    conn = server_connection()
    try:
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def dedicated_prefix(settings: Any, tmp_path: Any) -> Iterator[str]:
    # e.g. test_lb_helper_prov_ded_<slug>: only this test database's dedicated databases are ever dropped.
    prefix = f"{connection.settings_dict['NAME']}_ded_"
    settings.PROVISIONING_DATABASE_PREFIX = prefix
    settings.PROVISIONING_EXPORT_DIR = tmp_path / "exports"
    yield prefix
    drop_databases(databases_with_prefix(prefix))
    drop_roles_with_prefix(prefix)


def drop_roles_with_prefix(prefix: str) -> None:
    """The stacks' own login roles (named after their databases), once their databases are gone."""
    conn = server_connection()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", [prefix])
            for (name,) in cursor.fetchall():
                cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        conn.close()


@pytest.fixture
def worker(celery_worker: Callable[..., Any]) -> Iterator[None]:
    """A real Celery worker consuming the real broker, in a thread of this process."""
    with celery_worker(shutdown_timeout=30):
        yield


@pytest.fixture
def no_queue(monkeypatch: Any) -> None:
    """Runs are created but not sent to the broker: the test drives the executor itself."""
    monkeypatch.setattr("provisioning.services.queue_run", lambda run_id: None)


def wait_for_run(run_id: int, until: Callable[[ProvisioningRun], bool] | None = None, timeout: float = 90) -> Any:
    until = until or (lambda run: run.state not in ("pending", "running"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ProvisioningRun.objects.select_related("tenant").get(pk=run_id)
        if until(run):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {ProvisioningRun.objects.get(pk=run_id).state} after {timeout} s")


@contextmanager
def dedicated_database(name: str) -> Iterator[Any]:
    conn = server_connection(name)
    try:
        yield conn
    finally:
        conn.close()


def step_states(run: ProvisioningRun) -> dict[str, str]:
    return dict(run.steps.order_by("position").values_list("name", "state"))


def step_attempts(run: ProvisioningRun) -> dict[str, int]:
    return dict(run.steps.order_by("position").values_list("name", "attempts"))
