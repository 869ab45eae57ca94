"""The platform-staff console on the root domain."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_staff_see_every_tenant_in_the_console(staff_browser, make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")
    make_store(subdomain="pottery", store_name="Calder Pottery", tenancy="dedicated")

    page = staff_browser.get("/console/")

    assert page.status_code == 200
    assert b"Hebden Bakery" in page.content and b"Calder Pottery" in page.content
    assert b"Pending provisioning" in page.content


def test_staff_suspend_and_reactivate_from_the_console(staff_browser, make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")

    row = staff_browser.post("/console/tenants/bakery/suspend", HTTP_HX_PROMPT="Chargeback dispute")
    assert b"Suspended" in row.content and b"Chargeback dispute" in row.content
    assert Client(HTTP_HOST="bakery.localhost").get("/").status_code == 503

    row = staff_browser.post("/console/tenants/bakery/reactivate")
    assert b"Active" in row.content
    assert Client(HTTP_HOST="bakery.localhost").get("/").status_code == 200


def test_the_console_sends_anonymous_visitors_to_the_platform_login():
    response = Client(HTTP_HOST="localhost").get("/console/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_reach_the_control_plane_admin_with_the_tenant_registry(staff_browser, make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")

    index = staff_browser.get("/admin/")
    tenants = staff_browser.get("/admin/tenants/tenant/")

    assert index.status_code == 200
    assert tenants.status_code == 200
    assert b"bakery" in tenants.content
