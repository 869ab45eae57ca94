"""Staff decisions on dedicated requests over the API: reject (reason recorded and mailed), cancel,
and who may do any of it (platform staff only)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.http import HttpRequest
from django.test import Client

from provisioning.models import ProvisioningRun, ProvisioningStep
from tenants.accounts.models import User
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, store_api, store_host

pytestmark = pytest.mark.django_db


def test_rejecting_records_the_reason_and_mails_it_to_the_merchant(
    staff_api, make_store, django_capture_on_commit_callbacks
):
    make_store(subdomain="pottery", email="potter@example.com", store_name="Calder Pottery", tenancy="dedicated")
    reason = "Dedicated stacks need a signed hosting agreement first."

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post("/api/v1/staff/tenants/pottery/reject", {"reason": reason}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    tenant = Tenant.objects.get(slug="pottery")
    assert tenant.status == "rejected" and tenant.rejection_reason == reason
    assert tenant.pending_owner_password == ""  # no stack will ever need it
    [message] = mail.outbox
    assert message.to == ["potter@example.com"]
    assert "Calder Pottery" in message.subject and reason in message.body
    assert not ProvisioningRun.objects.exists()
    page = Client(HTTP_HOST=store_host("pottery")).get("/")
    assert page.status_code == 503 and b"closed" in page.content


def test_a_rejection_needs_a_reason_and_changes_nothing_without_one(
    staff_api, make_store, django_capture_on_commit_callbacks
):
    make_store(subdomain="pottery", tenancy="dedicated")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post("/api/v1/staff/tenants/pottery/reject", {"reason": "  "}, format="json")

    assert response.status_code == 400
    assert Tenant.objects.get(slug="pottery").status == "pending_provisioning"
    assert mail.outbox == []


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_only_a_pending_dedicated_request_can_be_approved_or_rejected(staff_api, make_store, action):
    make_store(subdomain="bakery")  # shared and live

    response = staff_api.post(f"/api/v1/staff/tenants/bakery/{action}", {"reason": "No"}, format="json")

    assert response.status_code == 409
    assert Tenant.objects.get(slug="bakery").status == "active"
    assert not ProvisioningRun.objects.exists()


def test_cancelling_a_pending_run_puts_the_request_back_for_a_new_decision(
    staff_api, make_store, django_capture_on_commit_callbacks, no_queue
):
    make_store(subdomain="pottery", tenancy="dedicated")
    with django_capture_on_commit_callbacks(execute=True):
        run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert Tenant.objects.get(slug="pottery").status == "provisioning"

    response = staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/cancel")

    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert Tenant.objects.get(slug="pottery").status == "pending_provisioning"
    assert staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/cancel").status_code == 409
    again = staff_api.post("/api/v1/staff/tenants/pottery/approve")
    assert again.status_code == 202 and again.json()["id"] != run_id


def test_a_run_past_its_point_of_no_return_cannot_be_cancelled(staff_api, make_store, no_queue):
    make_store(subdomain="pottery", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    ProvisioningRun.objects.filter(pk=run_id).update(state="running")
    ProvisioningStep.objects.filter(run_id=run_id, name="switch_routing").update(state="running")

    response = staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/cancel")

    assert response.status_code == 409
    assert "point of no return" in response.json()["detail"]
    assert ProvisioningRun.objects.get(pk=run_id).state == "running"


def test_the_run_shows_each_step_with_its_state_times_and_errors(staff_api, make_store, no_queue):
    make_store(subdomain="pottery", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]

    body = staff_api.get(f"/api/v1/staff/provisioning-runs/{run_id}").json()

    assert body["state"] == "pending" and body["requested_by"] == "staff@localbazaar.test"
    assert body["steps"][0] == {
        "position": 1,
        "name": "create_database",
        "label": "Create the dedicated database",
        "state": "pending",
        "attempts": 0,
        "started_at": None,
        "finished_at": None,
        "output": "",
        "error": "",
    }
    assert staff_api.get("/api/v1/staff/provisioning-runs/999999").status_code == 404


def test_retrying_a_run_that_has_not_failed_is_a_conflict(staff_api, make_store, no_queue):
    make_store(subdomain="weaver", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/weaver/approve").json()["id"]

    response = staff_api.post(f"/api/v1/staff/provisioning-runs/{run_id}/retry")

    assert response.status_code == 409
    assert ProvisioningRun.objects.get(pk=run_id).state == "pending"


def _buyer_client() -> Client:
    User.objects.create_user("buyer@example.com", STRONG_PASSWORD)  # a public account, not staff
    client = Client(HTTP_HOST="localhost")
    assert client.login(request=HttpRequest(), email="buyer@example.com", password=STRONG_PASSWORD)
    return client


def test_anyone_but_platform_staff_gets_403_and_nothing_changes(make_store, root_api, staff_user, no_queue):
    store = make_store(subdomain="bakery")
    make_store(subdomain="pottery", tenancy="dedicated")
    other = make_store(subdomain="kiln", tenancy="dedicated")
    from provisioning.services import approve_dedicated_request

    run = approve_dedicated_request(other.tenant, staff_user)
    store_token_on_root = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {store.token}")
    attempts = {
        "anonymous": Client(HTTP_HOST="localhost"),
        "store owner token": store_token_on_root,
        "buyer session": _buyer_client(),
    }
    for who, client in attempts.items():
        for method, path in [
            ("post", "/api/v1/staff/tenants/pottery/approve"),
            ("post", "/api/v1/staff/tenants/pottery/reject"),
            ("get", f"/api/v1/staff/provisioning-runs/{run.pk}"),
            ("post", f"/api/v1/staff/provisioning-runs/{run.pk}/retry"),
            ("post", f"/api/v1/staff/provisioning-runs/{run.pk}/cancel"),
            ("post", "/api/v1/staff/tenants/kiln/deprovision"),
        ]:
            response = getattr(client, method)(path, {"reason": "x"}, content_type="application/json")
            assert response.status_code == 403, (who, path, response.status_code)
    assert Tenant.objects.get(slug="pottery").status == "pending_provisioning"
    assert ProvisioningRun.objects.get().state == "pending"
    # A store host has no staff API at all.
    assert store_api("bakery", store.token).post("/api/v1/staff/tenants/pottery/approve").status_code == 404


def test_the_staff_api_is_in_the_openapi_schema(staff_api):
    schema = staff_api.get("/api/schema/", {"format": "json"}).json()

    for path in [
        "/api/v1/staff/tenants/{slug}/approve",
        "/api/v1/staff/tenants/{slug}/reject",
        "/api/v1/staff/provisioning-runs/{run_id}",
        "/api/v1/staff/provisioning-runs/{run_id}/retry",
        "/api/v1/staff/provisioning-runs/{run_id}/cancel",
    ]:
        assert path in schema["paths"], path
    assert "202" in schema["paths"]["/api/v1/staff/tenants/{slug}/approve"]["post"]["responses"]


def test_a_dedicated_store_host_never_falls_through_to_the_shared_database(make_store):
    make_store(subdomain="pottery", tenancy="dedicated")

    admin = Client(HTTP_HOST=store_host("pottery")).get("/admin/login/")

    # Not the admin of some schema-less search path (that would be `public`, the platform's own tables).
    assert admin.status_code == 503
    assert b"being prepared" in admin.content
