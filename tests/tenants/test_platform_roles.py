"""Platform staff rights come from a platform role, never from Django's `is_staff` (which every store owner
carries in their own store): support staff may look and approve; only operators suspend, deprovision,
confirm an upgrade or use the platform admin."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client
from rest_framework.test import APIClient

from provisioning.models import ProvisioningRun
from tenants.accounts.models import User
from tenants.models import Tenant, TenantStateChange
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, make_platform_staff, token_for

pytestmark = pytest.mark.django_db
SUPPORT_EMAIL = "support@localbazaar.test"


@pytest.fixture
def support_api() -> APIClient:
    make_platform_staff(SUPPORT_EMAIL, role="support")
    client = APIClient(HTTP_HOST=ROOT_HOST)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(client, SUPPORT_EMAIL)}")
    return client


def test_support_staff_list_tenants_but_may_not_suspend(support_api, make_store):
    make_store(subdomain="bakery")

    assert support_api.get("/api/v1/staff/tenants").status_code == 200
    response = support_api.post("/api/v1/staff/tenants/bakery/suspend", {"reason": "x"}, format="json")

    assert response.status_code == 403
    assert Tenant.objects.get(slug="bakery").status == "active"


def test_support_staff_may_not_deprovision_or_confirm_an_upgrade(support_api, make_store):
    tenant = make_store(subdomain="pottery", tenancy="dedicated").tenant
    Tenant.objects.filter(pk=tenant.pk).update(status="active")  # as if provisioned

    assert support_api.post("/api/v1/staff/tenants/pottery/deprovision").status_code == 403
    assert support_api.post("/api/v1/staff/tenants/pottery/confirm-upgrade").status_code == 403
    assert not ProvisioningRun.objects.filter(tenant=tenant).exists()
    assert Tenant.objects.get(pk=tenant.pk).status == "active"


def test_operators_suspend(staff_api, make_store):
    make_store(subdomain="bakery")

    response = staff_api.post("/api/v1/staff/tenants/bakery/suspend", {"reason": "Fraud report"}, format="json")

    assert response.status_code == 200
    assert Tenant.objects.get(slug="bakery").status == "suspended"


def test_is_staff_without_a_platform_role_gets_no_staff_token_console_or_admin(make_store):
    make_store(subdomain="bakery")
    user = User.objects.create_user("owner-like@example.com", STRONG_PASSWORD, is_staff=True, is_superuser=True)
    root = APIClient(HTTP_HOST=ROOT_HOST)

    token = root.post("/api/v1/auth/token", {"email": "owner-like@example.com", "password": STRONG_PASSWORD})
    browser = Client(HTTP_HOST=ROOT_HOST)
    # Logged in as that user, so every refusal below is for a lack of role, not of a session.
    assert browser.login(request=HttpRequest(), email="owner-like@example.com", password=STRONG_PASSWORD)
    assert browser.session["_auth_user_id"] == str(user.pk)

    assert token.status_code == 400 and "token" not in token.json()
    assert browser.get("/console/").status_code == 403
    assert browser.post("/console/tenants/bakery/suspend", {"reason": "x"}).status_code == 403
    assert browser.get("/admin/")["Location"] == "/admin/login/?next=/admin/"  # back to the login page
    assert Tenant.objects.get(slug="bakery").status == "active"
    assert not TenantStateChange.objects.filter(tenant__slug="bakery", changes__has_key="status").exists()


def test_support_staff_see_the_console_but_not_the_platform_admin_or_its_suspend_button(make_store):
    make_store(subdomain="bakery")
    support = make_platform_staff(SUPPORT_EMAIL, role="support")
    browser = Client(HTTP_HOST=ROOT_HOST)
    assert browser.login(request=HttpRequest(), email=SUPPORT_EMAIL, password=STRONG_PASSWORD)
    assert browser.session["_auth_user_id"] == str(support.pk)

    assert browser.get("/console/").status_code == 200
    assert browser.post("/console/tenants/bakery/suspend", {"reason": "x"}).status_code == 403
    assert browser.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert Tenant.objects.get(slug="bakery").status == "active"
    assert not TenantStateChange.objects.filter(tenant__slug="bakery", changes__has_key="status").exists()


def test_a_store_owner_token_is_no_staff_token_on_the_root_host(make_store):
    store = make_store(subdomain="bakery")
    root = APIClient(HTTP_HOST=ROOT_HOST)
    root.credentials(HTTP_AUTHORIZATION=f"Bearer {store.token}")

    assert root.get("/api/v1/staff/tenants").status_code == 401
