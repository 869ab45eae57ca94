"""`make dev`'s stack supervisor: a dedicated store that goes live is served by its own stack without anyone
running `serve_dedicated` by hand; a stack that dies is started again; one taken down is stopped and its
hostname stops answering; stopping the supervisor stops every stack."""

from __future__ import annotations

import os
import signal

import pytest

from provisioning import execution, services
from provisioning.models import ProvisioningRun
from provisioning.stack_supervisor import StackSupervisor, live_stacks
from tenants.models import Tenant
from tests.conftest import store_api, wait_for
from tests.provisioning.dedicated_stack import platform_environment

pytestmark = [pytest.mark.usefixtures("committed_tenancy", "no_queue"), pytest.mark.slow]


def answers(slug: str) -> bool:
    """The store's home page comes from its stack (the platform itself never serves a dedicated store)."""
    return store_api(slug).get("/").status_code == 200


def refused_as(slug: str) -> str:
    """Why the platform answers for the store instead of its stack."""
    return str(store_api(slug).get("/api/v1/products").json().get("code"))


def test_a_live_dedicated_store_is_served_restarted_when_its_stack_dies_and_stopped_when_taken_down(
    staff_api, make_store
) -> None:
    make_store(subdomain="pottery", store_name="Calder Pottery", email="potter@example.com", tenancy="dedicated")
    make_store(subdomain="bakery", store_name="Hebden Bakery", email="baker@example.com")  # shared: never a stack
    make_store(subdomain="weaver", store_name="Loom", email="weaver@example.com", tenancy="dedicated")  # pending
    supervisor = StackSupervisor(environment=platform_environment())
    try:
        # Nothing is live yet: nothing to serve
        supervisor.sync()
        assert live_stacks() == set() and supervisor.running() == set()

        # When staff approve and the run goes live, the next look starts the store's stack
        run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
        assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
        assert live_stacks() == {"pottery"}
        supervisor.sync()
        wait_for(lambda: answers("pottery"), what="pottery served by its stack")
        first = supervisor.stacks["pottery"].process
        assert first is not None

        # A stack killed outright is started again (after a short pause) and answers again
        os.kill(first.pid, signal.SIGKILL)
        first.wait()

        stale = Tenant.objects.get(slug="pottery").upstream_url

        def restarted() -> bool:
            supervisor.sync()
            process = supervisor.stacks["pottery"].process
            upstream = Tenant.objects.get(slug="pottery").upstream_url
            return process is not None and process.pid != first.pid and upstream not in ("", stale)

        wait_for(restarted, what="pottery's stack started again")
        wait_for(lambda: answers("pottery"), what="pottery served by its new stack")
        assert supervisor.stacks["pottery"].failures == 1

        # Taken down: its stack stops and the hostname is no longer served from anywhere
        services.request_deprovisioning(Tenant.objects.get(slug="pottery"), None)
        supervisor.sync()
        assert supervisor.running() == set() and "pottery" not in supervisor.stacks
        assert Tenant.objects.get(slug="pottery").upstream_url == ""
        assert refused_as("pottery") == "tenant_closed"
    finally:
        supervisor.stop_all()
    assert supervisor.stacks == {}


def test_stopping_the_supervisor_stops_every_stack_and_withdraws_its_hostname(staff_api, make_store) -> None:
    make_store(subdomain="pottery", store_name="Calder Pottery", email="potter@example.com", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
    supervisor = StackSupervisor(environment=platform_environment())
    supervisor.sync()
    wait_for(lambda: answers("pottery"), what="pottery served by its stack")
    process = supervisor.stacks["pottery"].process

    supervisor.stop_all()

    assert process is not None and process.poll() is not None
    assert Tenant.objects.get(slug="pottery").upstream_url == ""
    assert refused_as("pottery") == "tenant_dedicated"
