"""The staff console: approve or reject a dedicated request from its row, and follow the run on a
page that polls its progress until it stops."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from provisioning.models import ProvisioningRun
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_a_pending_request_has_approve_and_reject_buttons(staff_browser, make_store):
    make_store(subdomain="pottery", store_name="Calder Pottery", tenancy="dedicated")

    page = staff_browser.get("/console/")

    assert b"1 dedicated request waiting for approval" in page.content
    assert b'hx-post="/console/tenants/pottery/approve"' in page.content
    assert b'hx-post="/console/tenants/pottery/reject"' in page.content


def test_approving_in_the_console_opens_the_run_page_which_polls_its_progress(staff_browser, make_store, no_queue):
    make_store(subdomain="pottery", store_name="Calder Pottery", tenancy="dedicated")

    response = staff_browser.post("/console/tenants/pottery/approve", HTTP_HX_REQUEST="true")

    run = ProvisioningRun.objects.get()
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/console/provisioning/runs/{run.pk}/"
    page = staff_browser.get(response["HX-Redirect"])
    assert page.status_code == 200
    assert b"Create the dedicated database" in page.content and b"Switch routing" in page.content
    assert f'hx-get="/console/provisioning/runs/{run.pk}/progress"'.encode() in page.content
    assert b'hx-trigger="every 1s"' in page.content
    listing = staff_browser.get("/console/")
    assert f"Provisioning run #{run.pk}".encode() in listing.content


def test_a_failed_run_shows_its_error_and_log_stops_polling_and_offers_retry(staff_browser, make_store, no_queue):
    make_store(subdomain="pottery", tenancy="dedicated")
    staff_browser.post("/console/tenants/pottery/approve")
    run = ProvisioningRun.objects.get()
    run.steps.filter(name="create_database").update(
        state="failed", output="$ CREATE DATABASE ...", error="permission denied to create database"
    )
    ProvisioningRun.objects.filter(pk=run.pk).update(state="failed", error="create_database: permission denied")

    fragment = staff_browser.get(f"/console/provisioning/runs/{run.pk}/progress")

    assert b"permission denied to create database" in fragment.content
    assert b"$ CREATE DATABASE" in fragment.content
    assert b"hx-trigger" not in fragment.content  # nothing moves until staff act
    assert b"Retry from the failed step" in fragment.content

    retried = staff_browser.post(f"/console/provisioning/runs/{run.pk}/retry")

    assert b'hx-trigger="every 1s"' in retried.content
    assert ProvisioningRun.objects.get(pk=run.pk).state == "pending"

    cancelled = staff_browser.post(f"/console/provisioning/runs/{run.pk}/cancel")

    assert b"Cancelled" in cancelled.content
    assert Tenant.objects.get(slug="pottery").status == "pending_provisioning"


def test_rejecting_in_the_console_asks_for_the_reason_and_mails_it(
    staff_browser, make_store, django_capture_on_commit_callbacks
):
    make_store(subdomain="pottery", email="potter@example.com", tenancy="dedicated")

    with django_capture_on_commit_callbacks(execute=True):
        row = staff_browser.post("/console/tenants/pottery/reject", HTTP_HX_PROMPT="Not in our service area yet")

    assert b"Rejected" in row.content and b"Not in our service area yet" in row.content
    assert Tenant.objects.get(slug="pottery").rejection_reason == "Not in our service area yet"
    assert "Not in our service area yet" in mail.outbox[0].body


def test_the_provisioning_pages_are_for_staff_only(make_store, no_queue, staff_user):
    make_store(subdomain="pottery", tenancy="dedicated")
    anonymous = Client(HTTP_HOST="localhost")

    for path in ["/console/tenants/pottery/approve", "/console/tenants/pottery/reject"]:
        response = anonymous.post(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not ProvisioningRun.objects.exists()
    assert Tenant.objects.get(slug="pottery").status == "pending_provisioning"
