"""Approving a dedicated request builds the tenant's own database through a real Celery worker; failed
steps are recorded and retried; the store's data never lands in the shared database."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core import mail
from django_tenants.utils import schema_exists

from billing.models import Subscription
from tenants.accounts.models import User
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, store_api
from tests.provisioning.conftest import dedicated_database, step_attempts, step_states, wait_for_run

pytestmark = pytest.mark.usefixtures("committed_tenancy")

PROVISION_STEPS = [
    "create_database",
    "migrate_database",
    "bootstrap_owner",
    "register_store",
    "verify_health",
    "switch_routing",
]


def test_an_approved_request_runs_to_a_live_store_in_its_own_database(staff_api, make_store, worker, dedicated_prefix):
    make_store(subdomain="pottery", email="potter@example.com", tenancy="dedicated")
    password_hash = Tenant.objects.get(slug="pottery").pending_owner_password

    response = staff_api.post("/api/v1/staff/tenants/pottery/approve")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["tenant"] == "pottery" and body["kind"] == "provision" and body["backend"] == "local"
    assert [step["name"] for step in body["steps"]] == PROVISION_STEPS
    run = wait_for_run(body["id"])
    assert run.state == "succeeded", (run.error, step_states(run))
    detail = staff_api.get(f"/api/v1/staff/provisioning-runs/{run.pk}").json()
    assert detail["state"] == "succeeded"
    for step in detail["steps"]:
        assert step["state"] == "succeeded", step
        assert step["started_at"] and step["finished_at"] and step["error"] == ""
    # The store is live, its database on record, and the password hash gone from the control plane.
    tenant = Tenant.objects.get(slug="pottery")
    assert tenant.status == "active"
    assert tenant.database_name == f"{dedicated_prefix}pottery"
    assert tenant.pending_owner_password == ""
    # Billed from the moment it is live, on the plan chosen at signup (none before: it was not live)
    subscription = Subscription.objects.get(tenant=tenant)
    assert (subscription.plan.code, subscription.status) == ("dedicated", "active")
    assert subscription.current_period_start >= run.created_at
    # The owner can log in to the dedicated database with the password chosen at signup.
    with dedicated_database(tenant.database_name) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT u.password, u.is_active, m.role FROM accounts_user u "
            "JOIN accounts_membership m ON m.user_id = u.id WHERE u.email = %s",
            ["potter@example.com"],
        )
        [(stored_hash, is_active, role)] = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 10
    assert is_active and role == "owner"
    assert check_password(STRONG_PASSWORD, stored_hash)
    # Its data is not in the shared database: no schema, no owner account.
    assert not schema_exists("t_pottery")
    assert not User.objects.filter(email__iexact="potter@example.com").exists()
    # Secrets never reach the step logs.
    for step in detail["steps"]:
        assert password_hash not in step["output"] and "argon2" not in step["output"]
    # The merchant is told, and the shared process never serves the store from the shared database.
    assert [m.to for m in mail.outbox if "live" in m.subject] == [["potter@example.com"]]
    api = store_api("pottery").get("/api/v1/products")
    assert api.status_code == 403 and api.json()["code"] == "tenant_dedicated"


def test_a_failed_step_is_recorded_and_a_retry_finishes_the_run(staff_api, make_store, worker, settings):
    make_store(subdomain="kiln", email="kiln@example.com", tenancy="dedicated")
    settings.PROVISIONING_STEP_TIMEOUT = 0.01  # migrate cannot finish: the step fails for real

    run_id = staff_api.post("/api/v1/staff/tenants/kiln/approve").json()["id"]
    run = wait_for_run(run_id)

    assert run.state == "failed"
    assert step_states(run) == {
        "create_database": "succeeded",
        "migrate_database": "failed",
        "bootstrap_owner": "pending",
        "register_store": "pending",
        "verify_health": "pending",
        "switch_routing": "pending",
    }
    failed = run.steps.get(name="migrate_database")
    assert "timed out" in failed.error and failed.finished_at
    assert run.error.startswith("migrate_database:")
    assert Tenant.objects.get(slug="kiln").status == "provisioning"
    shown = staff_api.get(f"/api/v1/staff/provisioning-runs/{run_id}").json()
    assert [s["error"] for s in shown["steps"] if s["state"] == "failed"] == [failed.error]

    settings.PROVISIONING_STEP_TIMEOUT = 600
    retried = staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/retry")

    assert retried.status_code == 202
    run = wait_for_run(run_id)
    assert run.state == "succeeded", (run.error, step_states(run))
    assert step_attempts(run) == {
        "create_database": 1,  # done steps are not repeated
        "migrate_database": 2,
        "bootstrap_owner": 1,
        "register_store": 1,
        "verify_health": 1,
        "switch_routing": 1,
    }
    assert Tenant.objects.get(slug="kiln").status == "active"
