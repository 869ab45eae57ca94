"""The `terraform` backend, driven through the staff API and a real Celery worker against a stand-in
`terraform` on PATH (the real CLI needs AWS): per-tenant working directory and state key, init/plan/
apply/output in order, outputs on the run, retries, a crashed apply's lock, deprovisioning, and no
secret ever stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioning import execution
from provisioning.models import ProvisioningRun, ProvisioningStep
from tenants.models import Tenant
from tests.provisioning.conftest import step_attempts, step_states, wait_for_run
from tests.provisioning.terraform_stand_in import BUCKET, LOCK_TABLE, REGION, TerraformStandIn, terraform_stand_in

__all__ = ["terraform_stand_in"]  # the fixture, imported for this module's tests

# Tests driving the executor in this process run in a rolled-back transaction; those with a worker commit.
committed = pytest.mark.usefixtures("committed_tenancy")

REPO = Path(__file__).resolve().parents[2]
PROVISION_STEPS = [
    "write_workdir",
    "terraform_init",
    "terraform_plan",
    "terraform_apply",
    "read_outputs",
    "deploy_app",
    "wait_for_rollout",
    "migrate_database",
    "bootstrap_owner",
    "verify_health",
    "switch_routing",
]
ALL_RESOURCES = 6  # what the stand-in's stack is made of


def provisioned(staff_api, slug: str) -> int:
    """Approve `slug` and run its provisioning to the end in this process; returns the run id."""
    run_id = staff_api.post(f"/api/v1/staff/tenants/{slug}/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded"
    return run_id


@committed
def test_an_approved_request_applies_the_tenant_stack_with_its_own_state_and_goes_live(
    staff_api, make_store, worker, terraform_stand_in: TerraformStandIn
):
    make_store(subdomain="hebden-bakery", email="bakes@example.com", tenancy="dedicated")

    response = staff_api.post("/api/v1/staff/tenants/hebden-bakery/approve")

    assert response.status_code == 202, response.content
    assert response.json()["backend"] == "terraform"
    assert [step["name"] for step in response.json()["steps"]] == PROVISION_STEPS
    run = wait_for_run(response.json()["id"])
    assert run.state == "succeeded", (run.error, step_states(run))
    assert set(step_states(run).values()) == {"succeeded"}
    # terraform ran in the tenant's own directory: init, plan to a file, apply that plan, read outputs.
    workdir = terraform_stand_in.workdir_root / "hebden-bakery"
    assert terraform_stand_in.commands() == ["init", "plan", "apply", "output"]
    assert {call["cwd"] for call in terraform_stand_in.calls()} == {str(workdir)}
    [init] = terraform_stand_in.calls_of("init")
    assert {
        "-input=false",
        "-reconfigure",
        "-no-color",
        f"-backend-config=bucket={BUCKET}",
        "-backend-config=key=tenants/hebden-bakery/terraform.tfstate",
        f"-backend-config=region={REGION}",
        f"-backend-config=dynamodb_table={LOCK_TABLE}",
        "-backend-config=encrypt=true",
    } <= set(init)
    [plan] = terraform_stand_in.calls_of("plan")
    assert {"-out=tenant.tfplan", "-input=false", "-lock-timeout=1s", "-detailed-exitcode"} <= set(plan)
    [apply] = terraform_stand_in.calls_of("apply")
    assert apply[-1] == "tenant.tfplan" and "-auto-approve" not in apply
    [output] = terraform_stand_in.calls_of("output")
    assert "-json" in output
    # Terraform runs in automation mode and never sees the platform's own secrets.
    for call in terraform_stand_in.calls():
        assert "TF_IN_AUTOMATION" in call["env"]
        assert not {"DATABASE_URL", "SECRET_KEY", "CELERY_BROKER_URL"} & set(call["env"])
    # The root calls the real module, and its variables are the tenant's, non-secret.
    assert json.loads((workdir / "terraform.tfvars.json").read_text()) == {
        "allow_destroy": False,
        "region": REGION,
        "tenant_slug": "hebden-bakery",
    }
    main_tf = (workdir / "main.tf").read_text()
    source = main_tf.split('source = "', 1)[1].split('"', 1)[0]
    assert (workdir / source).resolve() == REPO / "terraform" / "modules" / "dedicated-tenant"
    # Every resource was made exactly once.
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES
    assert set(terraform_stand_in.created().values()) == {1}
    # Staff see the stack's outputs on the run.
    outputs = staff_api.get(f"/api/v1/staff/provisioning-runs/{run.pk}").json()["outputs"]
    assert outputs["cluster_endpoint"].startswith("https://") and outputs["cluster_endpoint"].endswith(
        f".{REGION}.eks.amazonaws.com"
    )
    assert outputs["database_endpoint"].startswith("lb-hebden-bakery.") and outputs["database_endpoint"].endswith(
        ":5432"
    )
    assert outputs["database_secret_arn"].startswith(f"arn:aws:secretsmanager:{REGION}:")
    assert outputs["state_key"] == "tenants/hebden-bakery/terraform.tfstate"
    # The app on the stack was migrated, its owner bootstrapped (hash on stdin) and verified.
    stack = terraform_stand_in.stack_calls()
    assert [call["argv"][0] for call in stack] == ["migrate", "bootstrap_dedicated_owner", "verify_dedicated_stack"]
    assert stack[1]["argv"] == ["bootstrap_dedicated_owner"]
    assert stack[1]["stdin_fields"] == {"email": "bakes@example.com"}
    assert stack[1]["stdin_chars"] > 20
    assert {"LB_TENANT_SLUG", "LB_STACK_DATABASE_ENDPOINT", "LB_STACK_DATABASE_SECRET_ARN"} <= set(stack[1]["env"])
    tenant = Tenant.objects.get(slug="hebden-bakery")
    assert tenant.status == "active" and tenant.pending_owner_password == ""
    assert tenant.database_name == "lb-hebden-bakery"


@pytest.mark.django_db
def test_a_failed_apply_is_recorded_and_a_retry_finishes_without_making_anything_twice(
    staff_api, make_store, no_queue, terraform_stand_in, monkeypatch
):
    make_store(subdomain="kiln", tenancy="dedicated")
    monkeypatch.setenv("FAKE_TERRAFORM_FAIL_AT", "apply:1")
    run_id = staff_api.post("/api/v1/staff/tenants/kiln/approve").json()["id"]

    assert execution.execute_run(run_id) == "failed"

    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_states(run)["terraform_plan"] == "succeeded"
    assert step_states(run)["terraform_apply"] == "failed"
    assert step_states(run)["read_outputs"] == "pending"
    failed = run.steps.get(name="terraform_apply")
    assert "terraform apply exited with 1" in failed.error and "ResourceInUseException" in failed.error
    assert failed.started_at and failed.finished_at
    assert run.error.startswith("terraform_apply:")
    assert terraform_stand_in.created() == {}  # nothing was made
    assert Tenant.objects.get(slug="kiln").status == "provisioning"

    retried = staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/retry")

    assert retried.status_code == 202
    assert execution.execute_run(run_id) == "succeeded"
    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_attempts(run)["terraform_apply"] == 2
    assert step_attempts(run)["terraform_plan"] == 1 and step_attempts(run)["terraform_init"] == 1
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES
    assert set(terraform_stand_in.created().values()) == {1}
    assert Tenant.objects.get(slug="kiln").status == "active"


@pytest.mark.django_db
def test_an_apply_that_died_holding_the_state_lock_is_resumed_after_releasing_it(
    staff_api, make_store, no_queue, terraform_stand_in, monkeypatch
):
    make_store(subdomain="loom", tenancy="dedicated")
    # terraform dies by SIGKILL half way through the apply: state saved so far, its lock left behind.
    monkeypatch.setenv("FAKE_TERRAFORM_CRASH_AT", "apply:1")
    run_id = staff_api.post("/api/v1/staff/tenants/loom/approve").json()["id"]
    assert execution.execute_run(run_id) == "failed"
    made_before = sum(terraform_stand_in.created().values())
    assert 0 < made_before < ALL_RESOURCES
    assert list((terraform_stand_in.remote / "_locks").rglob("*.json"))  # the lock is still held

    staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/retry")
    assert execution.execute_run(run_id) == "succeeded"

    # The failed apply's plan was discarded; the resumed step's plan waited out the lock, released it,
    # planned what was still missing, and applied that.
    assert terraform_stand_in.commands()[-6:] == ["apply", "plan", "force-unlock", "plan", "apply", "output"]
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES
    assert set(terraform_stand_in.created().values()) == {1}
    assert not list((terraform_stand_in.remote / "_locks").rglob("*.json"))
    log = ProvisioningRun.objects.get(pk=run_id).steps.get(name="terraform_apply").output
    assert "outlived the lock timeout" in log and "3 to add" in log


@pytest.mark.django_db
def test_an_apply_past_the_step_timeout_is_interrupted_cleanly_and_a_retry_finishes_it(
    staff_api, make_store, no_queue, terraform_stand_in, monkeypatch, settings
):
    make_store(subdomain="forge", tenancy="dedicated")
    monkeypatch.setenv("FAKE_TERRAFORM_HANG_AT", "apply:1")
    settings.PROVISIONING_STEP_TIMEOUT = 2
    run_id = staff_api.post("/api/v1/staff/tenants/forge/approve").json()["id"]

    assert execution.execute_run(run_id) == "failed"

    failed = ProvisioningRun.objects.get(pk=run_id).steps.get(name="terraform_apply")
    assert "timed out after 2 s and was interrupted" in failed.error
    assert "Gracefully shutting down" in failed.output
    # Interrupted, terraform finished the resource in flight, saved it and released the lock.
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES // 2 + 1
    assert not list((terraform_stand_in.remote / "_locks").rglob("*.json"))

    settings.PROVISIONING_STEP_TIMEOUT = 60
    staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/retry")
    assert execution.execute_run(run_id) == "succeeded"
    assert sum(terraform_stand_in.created().values()) == ALL_RESOURCES
    assert set(terraform_stand_in.created().values()) == {1}


@pytest.mark.django_db
def test_deprovisioning_lifts_protection_destroys_the_stack_and_removes_its_directory(
    staff_api, make_store, no_queue, terraform_stand_in
):
    make_store(subdomain="pottery", tenancy="dedicated")
    provisioned(staff_api, "pottery")
    workdir = terraform_stand_in.workdir_root / "pottery"
    assert workdir.is_dir()

    response = staff_api.post("/api/v1/staff/tenants/pottery/deprovision")

    assert response.status_code == 202
    run_id = response.json()["id"]
    assert execution.execute_run(run_id) == "succeeded"
    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_states(run) == {
        "write_workdir": "succeeded",
        "terraform_init": "succeeded",
        "terraform_plan": "succeeded",
        "terraform_apply": "succeeded",
        "remove_app": "succeeded",
        "terraform_destroy": "succeeded",
        "remove_workdir": "succeeded",
        "record_deprovisioned": "succeeded",
    }
    # allow_destroy applied to the protected resources only, then everything destroyed.
    lift = terraform_stand_in.calls_of("plan")[-1]
    assert {"-target=module.tenant.module.database", "-target=module.tenant.module.media"} <= set(lift)
    updates = [e for e in terraform_stand_in.resource_events() if e["op"] == "update"]
    assert [e["address"] for e in updates] == ["module.tenant.module.database.aws_db_instance.this"]
    [destroy] = terraform_stand_in.calls_of("destroy")
    assert "-auto-approve" in destroy and "-lock-timeout=1s" in destroy
    assert terraform_stand_in.destroyed() == terraform_stand_in.created()
    assert terraform_stand_in.state("pottery")["resources"] == {}
    assert not workdir.exists()
    assert run.outputs["final_snapshot"] == "lb-pottery-final"
    tenant = Tenant.objects.get(slug="pottery")
    assert tenant.status == "deprovisioned" and tenant.database_name == ""
    # Replaying the finished run does nothing more.
    calls = len(terraform_stand_in.calls())
    assert execution.execute_run(run_id) == "succeeded"
    assert len(terraform_stand_in.calls()) == calls


@pytest.mark.django_db
def test_rejecting_after_a_run_cancelled_before_apply_builds_nothing_to_take_down(
    staff_api, make_store, no_queue, terraform_stand_in, monkeypatch
):
    make_store(subdomain="mill", tenancy="dedicated")
    monkeypatch.setenv("FAKE_TERRAFORM_FAIL_AT", "plan")
    run_id = staff_api.post("/api/v1/staff/tenants/mill/approve").json()["id"]
    assert execution.execute_run(run_id) == "failed"
    assert staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/cancel").status_code == 200
    monkeypatch.delenv("FAKE_TERRAFORM_FAIL_AT")

    response = staff_api.post("/api/v1/staff/tenants/mill/reject", {"reason": "Not this year"}, format="json")

    assert response.status_code == 200
    cleanup = ProvisioningRun.objects.get(tenant__slug="mill", kind="deprovision")
    assert execution.execute_run(cleanup.pk) == "succeeded"
    states = step_states(cleanup)
    assert states["terraform_plan"] == "skipped" and states["terraform_destroy"] == "skipped"
    assert "apply" not in terraform_stand_in.commands() and "destroy" not in terraform_stand_in.commands()
    assert terraform_stand_in.created() == {}
    tenant = Tenant.objects.get(slug="mill")
    assert tenant.status == "rejected" and tenant.database_name == ""


@pytest.mark.django_db
def test_secrets_never_reach_step_logs_errors_or_outputs(
    staff_api, make_store, no_queue, terraform_stand_in, monkeypatch
):
    make_store(subdomain="vault", tenancy="dedicated")
    password_hash = Tenant.objects.get(slug="vault").pending_owner_password
    secrets = {
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//////////wEaDOfakeSessionToken42",
        "TF_VAR_alarm_webhook_token": "hooks-token-8c1f0e2d9b7a",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    sensitive_output = "grafana-admin-Pa55-9f8e7d6c"
    monkeypatch.setenv(
        "FAKE_TERRAFORM_EXTRA_OUTPUTS",
        json.dumps({"grafana_admin_password": {"value": sensitive_output, "sensitive": True}}),
    )
    # A chatty provider prints the credentials; the first apply fails with them in its output; the stack's
    # manage.py wrapper echoes the owner's password hash it was handed on stdin.
    monkeypatch.setenv("FAKE_TERRAFORM_LEAK_ENV", ",".join(secrets))
    monkeypatch.setenv("FAKE_TERRAFORM_FAIL_AT", "apply:1")
    monkeypatch.setenv("FAKE_STACK_ECHO_STDIN", "1")
    run_id = staff_api.post("/api/v1/staff/tenants/vault/approve").json()["id"]
    assert execution.execute_run(run_id) == "failed"
    staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/retry")

    assert execution.execute_run(run_id) == "succeeded"

    run = ProvisioningRun.objects.get(pk=run_id)
    stored = [run.error, json.dumps(run.outputs)]
    stored += [text for step in ProvisioningStep.objects.filter(run=run) for text in (step.output, step.error)]
    stored.append(json.dumps(staff_api.get(f"/api/v1/staff/provisioning-runs/{run_id}").json()))
    everything = "\n".join(stored)
    for value in [*secrets.values(), sensitive_output, password_hash]:
        assert value not in everything
    assert "[redacted]" in run.steps.get(name="terraform_apply").output  # the leak was there, and cut
    assert "[redacted]" in run.steps.get(name="bootstrap_owner").output
    assert run.outputs["grafana_admin_password"] == "(sensitive)"
    # Nor are secrets written into the working directory.
    workdir = terraform_stand_in.workdir_root / "vault"
    on_disk = "\n".join(p.read_text() for p in workdir.glob("*.tf*") if p.is_file())
    for value in [*secrets.values(), password_hash]:
        assert value not in on_disk


@pytest.mark.django_db
def test_without_a_state_bucket_the_run_fails_before_terraform_runs(
    staff_api, make_store, no_queue, terraform_stand_in, settings
):
    settings.PROVISIONING_TF_STATE_BUCKET = ""
    make_store(subdomain="weaver", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/weaver/approve").json()["id"]

    assert execution.execute_run(run_id) == "failed"

    run = ProvisioningRun.objects.get(pk=run_id)
    assert step_states(run)["terraform_init"] == "failed"
    assert "PROVISIONING_TF_STATE_BUCKET" in run.steps.get(name="terraform_init").error
    assert terraform_stand_in.calls() == []  # terraform never ran, so nothing could use a shared state
    assert Tenant.objects.get(slug="weaver").status == "provisioning"
