"""The `terraform` backend deploys the app to the stack it built: platform/overlays/dedicated filled in with
the run's outputs and applied to the stack's cluster (a stand-in kubectl that renders with the real one and
keeps the objects), the migration Job and rollouts waited for, then migrate, bootstrap and verify through
`kubectl exec` into that deployment. A failed rollout resumes without deploying twice; deprovisioning removes
the app (and its load balancer) before the stack is destroyed."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from provisioning import execution, services
from provisioning.models import ProvisioningRun
from provisioning.services import resume_stalled_runs
from tenants.models import Tenant
from tests.conftest import wait_for
from tests.provisioning.conftest import step_attempts, step_states, wait_for_run
from tests.provisioning.terraform_stand_in import (
    APP_IMAGE,
    REGION,
    TerraformStandIn,
    terraform_stand_in,
    terraform_worker,
)

__all__ = ["terraform_stand_in", "terraform_worker"]

pytestmark = pytest.mark.django_db

SLUG = "hebden-bakery"
HOST = f"{SLUG}.localhost"


def approve_and_run(staff_api, make_store) -> ProvisioningRun:
    make_store(subdomain=SLUG, email="bakes@example.com", tenancy="dedicated")
    run_id = staff_api.post(f"/api/v1/staff/tenants/{SLUG}/approve").json()["id"]
    execution.execute_run(run_id)
    return ProvisioningRun.objects.get(pk=run_id)


def verbs(stand_in: TerraformStandIn) -> list[str]:
    """Each kubectl call by its verb and object, e.g. "apply", "rollout deployment/localbazaar-web"."""
    named = []
    for argv in stand_in.kubectl_calls():
        if "--" in argv:  # exec: the manage.py command run in the pod
            named.append(f"exec {argv[argv.index('manage.py') + 1]}")
            continue
        words = [
            word
            for at, word in enumerate(argv)
            if not word.startswith("-") and argv[at - 1] not in ("--namespace", "--kustomize")
        ]
        named.append(" ".join(word for word in words if word != "status"))
    return named


def test_the_app_is_deployed_from_the_runs_outputs_and_migrated_bootstrapped_and_verified_through_it(
    staff_api, make_store, terraform_stand_in: TerraformStandIn
) -> None:
    run = approve_and_run(staff_api, make_store)

    assert run.state == "succeeded", (run.error, step_states(run))
    assert list(step_states(run))[4:8] == ["read_outputs", "deploy_app", "wait_for_rollout", "migrate_database"]
    # In order: the old migration Job goes, the release is applied, the Job and every rollout waited for, then
    # manage.py runs inside the deployed web pods.
    assert verbs(terraform_stand_in) == [
        "delete job localbazaar-migrate",
        "apply",
        "wait job/localbazaar-migrate",
        "rollout deployment/localbazaar-web",
        "rollout deployment/localbazaar-worker",
        "rollout deployment/localbazaar-beat",
        "exec migrate",
        "exec bootstrap_dedicated_owner",
        "exec verify_dedicated_stack",
    ]
    # The owner's password hash reached the stack on stdin, never as an argument.
    assert all("password" not in " ".join(argv) for argv in terraform_stand_in.kubectl_calls())
    assert terraform_stand_in.stack_calls()[1]["stdin_chars"] > 20
    # What runs on the cluster is the release, configured from the stack's outputs.
    outputs = run.outputs
    cluster = terraform_stand_in.cluster_objects()
    web = cluster["Deployment/localbazaar-web"]["spec"]["template"]["spec"]
    assert {container["image"] for container in web["containers"]} == {APP_IMAGE}
    assert run.outputs["release"] == APP_IMAGE
    [config] = [value for key, value in cluster.items() if key.startswith("ConfigMap/localbazaar-config")]
    assert config["data"]["ALLOWED_HOSTS"] == HOST and config["data"]["TENANT_SLUG"] == SLUG
    assert config["data"]["DATABASE_HOST"] == outputs["database_endpoint"]
    assert config["data"]["AWS_STORAGE_BUCKET_NAME"] == outputs["media_bucket_name"]
    assert config["data"]["AWS_S3_REGION_NAME"] == REGION
    account = cluster["ServiceAccount/localbazaar"]["metadata"]["annotations"]
    assert account["eks.amazonaws.com/role-arn"] == outputs["irsa_role_arn"]
    secrets = cluster["ExternalSecret/localbazaar-secrets"]["spec"]
    assert [entry["remoteRef"]["key"] for entry in secrets["data"]] == [
        outputs["database_secret_arn"],
        outputs["database_secret_arn"],
        outputs["redis_secret_arn"],
    ]
    assert secrets["dataFrom"][0]["extract"]["key"] == outputs["app_secret_name"]
    assert [rule["host"] for rule in cluster["Ingress/localbazaar"]["spec"]["rules"]] == [HOST]
    # No secret was written into the cluster's objects or the run's directory.
    assert not [key for key in cluster if key.startswith("Secret/")]
    # kubectl reached the stack's own cluster, from its endpoint output.
    servers = {call["server"] for call in terraform_stand_in.kubectl_records()}
    assert servers == {outputs["cluster_endpoint"]}
    assert Tenant.objects.get(slug=SLUG).status == "active"


def test_a_rollout_that_fails_is_resumed_without_deploying_again(
    staff_api, make_store, terraform_stand_in: TerraformStandIn, monkeypatch
) -> None:
    monkeypatch.setenv("FAKE_KUBECTL_FAIL_AT", "rollout")
    run = approve_and_run(staff_api, make_store)
    assert run.state == "failed" and step_states(run)["wait_for_rollout"] == "failed"
    assert "unable to handle the request" in run.error
    assert Tenant.objects.get(slug=SLUG).status == "provisioning"

    retried = services.retry_run(run)
    assert execution.execute_run(retried.pk) == "succeeded"

    run = ProvisioningRun.objects.get(pk=retried.pk)
    assert step_attempts(run)["deploy_app"] == 1 and step_attempts(run)["wait_for_rollout"] == 2
    assert verbs(terraform_stand_in).count("apply") == 1
    assert Tenant.objects.get(slug=SLUG).status == "active"


def test_deprovisioning_removes_the_app_before_the_stack_is_destroyed(
    staff_api, make_store, terraform_stand_in: TerraformStandIn
) -> None:
    approve_and_run(staff_api, make_store)
    assert "Ingress/localbazaar" in terraform_stand_in.cluster_objects()

    run = services.request_deprovisioning(Tenant.objects.get(slug=SLUG), None)
    assert execution.execute_run(run.pk) == "succeeded", ProvisioningRun.objects.get(pk=run.pk).error

    assert terraform_stand_in.cluster_objects() == {}
    assert verbs(terraform_stand_in)[-1] == "delete namespace localbazaar"
    # ...and only then was the stack destroyed.
    assert terraform_stand_in.commands()[-1] == "destroy"
    assert Tenant.objects.get(slug=SLUG).status == "deprovisioned"


@pytest.mark.usefixtures("committed_tenancy")
@pytest.mark.slow
def test_a_worker_killed_while_waiting_for_the_rollout_is_resumed_by_the_next_without_deploying_twice(
    staff_api, make_store, terraform_stand_in: TerraformStandIn, terraform_worker, settings
) -> None:
    make_store(subdomain=SLUG, email="bakes@example.com", tenancy="dedicated")
    worker = terraform_worker(FAKE_KUBECTL_HANG_AT="rollout")
    run_id = staff_api.post(f"/api/v1/staff/tenants/{SLUG}/approve").json()["id"]
    hung = terraform_stand_in.cluster / "hung-rollout"
    wait_for(hung.exists, what="the rollout wait to start")

    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # kubectl dies with its worker; the run is left running at the step it was in.
    wait_for(lambda: not Path(f"/proc/{hung.read_text()}").exists(), seconds=20, what="kubectl to end")
    run = ProvisioningRun.objects.get(pk=run_id)
    assert run.state == "running" and step_states(run)["wait_for_rollout"] == "running"

    settings.PROVISIONING_STALL_SECONDS = 0
    worker = terraform_worker(FAKE_KUBECTL_HANG_AT="rollout")  # hangs no more: the first rollout call did
    assert resume_stalled_runs() == [run_id]
    run = wait_for_run(run_id)
    worker.terminate()
    worker.wait(timeout=30)

    assert run.state == "succeeded", (run.error, step_states(run))
    assert step_attempts(run)["deploy_app"] == 1 and step_attempts(run)["wait_for_rollout"] == 2
    assert verbs(terraform_stand_in).count("apply") == 1
    assert Tenant.objects.get(slug=SLUG).status == "active"
