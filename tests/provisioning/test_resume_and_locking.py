"""A run survives its worker dying at any step, and two executions for one tenant never overlap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.db.utils import IntegrityError

from provisioning import execution
from provisioning.backends import local
from provisioning.locking import tenant_lock
from provisioning.models import ProvisioningRun
from provisioning.services import resume_stalled_runs
from provisioning.tasks import execute_run
from tenants.models import Tenant
from tests.conftest import purge_broker
from tests.provisioning.conftest import (
    databases_with_prefix,
    dedicated_database,
    server_connection,
    step_attempts,
    step_states,
    wait_for_run,
)

committed = pytest.mark.usefixtures("committed_tenancy")


def owner_rows(database: str, email: str) -> tuple[int, int]:
    with dedicated_database(database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user WHERE lower(email) = lower(%s)", [email])
        users = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM accounts_membership")
        return users, cursor.fetchone()[0]


@committed
def test_a_run_interrupted_after_a_step_did_its_work_resumes_with_nothing_made_twice(
    staff_api, make_store, no_queue, monkeypatch, dedicated_prefix
):
    make_store(subdomain="glass", email="glass@example.com", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/glass/approve").json()["id"]
    real_bootstrap = local.bootstrap_owner

    def bootstrap_then_die(ctx):
        real_bootstrap(ctx)
        raise KeyboardInterrupt  # the worker dies after the owner exists, before the step is recorded

    monkeypatch.setattr(local, "bootstrap_owner", bootstrap_then_die)
    with pytest.raises(KeyboardInterrupt):
        execution.execute_run(run_id)

    run = ProvisioningRun.objects.get(pk=run_id)
    assert run.state == "running"
    assert step_states(run) == {
        "create_database": "succeeded",
        "migrate_database": "succeeded",
        "bootstrap_owner": "running",  # left as the dead worker left it
        "register_store": "pending",
        "verify_health": "pending",
        "switch_routing": "pending",
    }
    monkeypatch.setattr(local, "bootstrap_owner", real_bootstrap)

    assert execution.execute_run(run_id) == "succeeded"

    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_attempts(run) == {
        "create_database": 1,
        "migrate_database": 1,
        "bootstrap_owner": 2,
        "register_store": 1,
        "verify_health": 1,
        "switch_routing": 1,
    }
    assert step_states(run)["bootstrap_owner"] == "skipped"  # found the owner already there
    assert databases_with_prefix(dedicated_prefix) == {f"{dedicated_prefix}glass"}
    assert owner_rows(f"{dedicated_prefix}glass", "glass@example.com") == (1, 1)
    assert Tenant.objects.get(slug="glass").status == "active"


@committed
def test_two_executions_for_one_tenant_at_once_only_one_does_the_work(staff_api, make_store, no_queue):
    make_store(subdomain="loom", email="loom@example.com", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/loom/approve").json()["id"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def execute() -> None:
        try:
            barrier.wait()
            outcomes.append(execution.execute_run(run_id))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=execute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(outcomes) == [execution.BUSY, "succeeded"]
    run = ProvisioningRun.objects.get(pk=run_id)
    assert set(step_attempts(run).values()) == {1}  # every step ran exactly once


@pytest.mark.django_db
def test_an_execution_finding_the_tenant_locked_does_nothing(staff_api, make_store, no_queue, dedicated_prefix):
    make_store(subdomain="forge", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/forge/approve").json()["id"]
    tenant_id = Tenant.objects.get(slug="forge").pk

    with tenant_lock(tenant_id) as held:
        assert held
        assert execute_run.apply(args=[run_id]).get() == execution.BUSY

    run = ProvisioningRun.objects.get(pk=run_id)
    assert run.state == "pending" and run.started_at is None
    assert set(step_attempts(run).values()) == {0}
    assert databases_with_prefix(dedicated_prefix) == set()


@pytest.mark.django_db
def test_a_tenant_can_have_only_one_unfinished_run(staff_api, make_store, no_queue):
    make_store(subdomain="mill", tenancy="dedicated")
    first = staff_api.post("/api/v1/staff/tenants/mill/approve")

    again = staff_api.post("/api/v1/staff/tenants/mill/approve")

    assert first.status_code == 202 and again.status_code == 409
    tenant = Tenant.objects.get(slug="mill")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProvisioningRun.objects.create(tenant=tenant, backend="local")  # the database refuses it too
    assert ProvisioningRun.objects.filter(tenant=tenant).count() == 1


@committed
@pytest.mark.slow
def test_killing_the_worker_mid_run_and_resuming_ends_live_with_nothing_made_twice(
    staff_api, make_store, worker_process, dedicated_prefix, settings
):
    make_store(subdomain="tannery", email="tan@example.com", tenancy="dedicated")
    database = f"{dedicated_prefix}tannery"

    # A worker process picks the approved run up; it is killed (SIGKILL) while migrating the new database.
    worker = worker_process()
    run_id = staff_api.post("/api/v1/staff/tenants/tannery/approve").json()["id"]
    wait_for_run(run_id, until=lambda run: step_states(run)["migrate_database"] == "running", timeout=60)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    run = ProvisioningRun.objects.get(pk=run_id)
    assert run.state == "running" and step_states(run)["migrate_database"] == "running"
    # The worker's migrate subprocess died with it (no orphan racing the resumed run).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and backends_on(database):
        time.sleep(0.2)
    assert backends_on(database) == 0

    # A new worker comes up; the stall sweeper finds the run nobody executes and queues it again.
    settings.PROVISIONING_STALL_SECONDS = 0
    worker = worker_process()
    assert resume_stalled_runs() == [run_id]
    run = wait_for_run(run_id)
    worker.terminate()
    worker.wait(timeout=30)

    assert run.state == "succeeded", (run.error, step_states(run))
    assert step_attempts(run)["create_database"] == 1 and step_attempts(run)["migrate_database"] == 2
    assert databases_with_prefix(dedicated_prefix) == {database}
    assert owner_rows(database, "tan@example.com") == (1, 1)
    assert Tenant.objects.get(slug="tannery").status == "active"


def backends_on(database: str) -> int:
    conn = server_connection()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database])
            return cursor.fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def worker_process(dedicated_prefix, settings):
    """Start `celery worker` processes on this test database and broker; killed after the test."""
    purge_broker()
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DATABASE_URL": local.database_url(connection.settings_dict["NAME"]),
        "PROVISIONING_DATABASE_PREFIX": dedicated_prefix,
        "PROVISIONING_EXPORT_DIR": str(settings.PROVISIONING_EXPORT_DIR),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
    }

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
            cwd=Path(django_settings.BASE_DIR),
            env=env,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
