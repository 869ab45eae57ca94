"""A Celery worker process killed (SIGKILL) while `terraform apply` runs: the apply stops the way Terraform
does on an interrupt (the resource in flight finished, state saved, lock released), and a new worker
finishes the run with every resource made exactly once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from provisioning.models import ProvisioningRun
from provisioning.services import resume_stalled_runs
from tenants.models import Tenant
from tests.provisioning.conftest import step_attempts, step_states, wait_for_run
from tests.provisioning.terraform_stand_in import terraform_stand_in, terraform_worker

__all__ = ["terraform_stand_in", "terraform_worker"]

ALL_RESOURCES = 6


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


@pytest.mark.usefixtures("committed_tenancy")
@pytest.mark.slow
def test_a_worker_killed_mid_apply_then_restarted_finishes_with_nothing_made_twice(
    staff_api, make_store, terraform_stand_in, terraform_worker, settings
):
    make_store(subdomain="tannery", email="tan@example.com", tenancy="dedicated")
    # The stand-in hangs in the first apply only, until it is signalled.
    worker = terraform_worker(FAKE_TERRAFORM_HANG_AT="apply:1")
    run_id = staff_api.post("/api/v1/staff/tenants/tannery/approve").json()["id"]
    # The apply has made half the stack and hangs on the next resource.
    wait_until(lambda: sum(terraform_stand_in.created().values()) == ALL_RESOURCES // 2)
    [hung] = [call["pid"] for call in terraform_stand_in.calls() if call["argv"][0] == "apply"]

    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    # terraform got SIGTERM when its worker died: it finished the resource in flight, saved, unlocked, exited.
    wait_until(lambda: not Path(f"/proc/{hung}").exists(), timeout=20)
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES // 2 + 1
    assert not list((terraform_stand_in.remote / "_locks").rglob("*.json"))
    run = ProvisioningRun.objects.get(pk=run_id)
    assert run.state == "running" and step_states(run)["terraform_apply"] == "running"

    # A new worker comes up; the stall sweeper queues the run nobody executes.
    settings.PROVISIONING_STALL_SECONDS = 0
    worker = terraform_worker(FAKE_TERRAFORM_HANG_AT="apply:1")
    assert resume_stalled_runs() == [run_id]
    run = wait_for_run(run_id)
    worker.terminate()
    worker.wait(timeout=30)

    assert run.state == "succeeded", (run.error, step_states(run))
    assert step_attempts(run)["terraform_apply"] == 2 and step_attempts(run)["terraform_plan"] == 1
    # The resumed apply found its saved plan stale, planned the rest and applied only that.
    assert terraform_stand_in.commands()[-5:] == ["apply", "apply", "plan", "apply", "output"]
    assert "planning again" in run.steps.get(name="terraform_apply").output
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES
    assert set(terraform_stand_in.created().values()) == {1}
    assert Tenant.objects.get(slug="tannery").status == "active"
