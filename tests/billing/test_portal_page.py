"""The billing page in the store admin (`/admin/billing/`) and the cancel/resume API: the owner sees
plan, usage, the projected bill, a usage chart and invoices, previews and confirms plan changes,
cancels and resumes; the store's staff get 403 and nobody else gets in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing import invoicing
from billing.models import Invoice, Subscription
from billing.services import close_billing_period, record_usage
from tenants.accounts.services import add_staff_member
from tenants.models import Tenant
from tests.billing.conftest import period_ended
from tests.conftest import STRONG_PASSWORD, store_api, store_host

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(make_store):
    return make_store(subdomain="bakery", email="baker@example.com")


def logged_in(slug: str, email: str) -> Client:
    browser = Client(HTTP_HOST=store_host(slug))
    response = browser.post("/admin/login/?next=/admin/", {"username": email, "password": STRONG_PASSWORD})
    assert response.status_code == 302, f"{email} could not log in"
    return browser


@pytest.fixture
def owner(store):
    return logged_in("bakery", "baker@example.com")


def test_the_owner_sees_plan_usage_projected_bill_and_chart(owner, store, django_assert_max_num_queries):
    now = timezone.now()
    record_usage(store.tenant.pk, "orders", 60, idempotency_key="a", occurred_at=now)
    owner.get("/admin/")  # warm the route and session

    with django_assert_max_num_queries(16):
        page = owner.get("/admin/billing/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="plan-name">Starter<' in html
    assert 'id="usage-orders"><td>orders</td><td class="amount">60</td>' in html
    assert 'id="projected-total">£11.00<' in html  # £9 fee + 10 orders over at 20p
    assert "<svg" in html and "peak 60" in html
    assert 'id="no-invoices"' in html
    assert 'id="payment-methods"' not in html  # the local provider keeps no payment methods
    assert 'href="/admin/billing/"' in owner.get("/admin/").content.decode()  # linked from the admin index


def test_staff_get_403_and_strangers_the_login_page(store, make_store, staff_browser):
    from tenants.db_backend import connection

    connection.set_tenant(store.tenant)
    add_staff_member("assistant@example.com", STRONG_PASSWORD)
    connection.set_schema_to_public()
    other = make_store(subdomain="pottery", email="potter@example.com")

    staff = logged_in("bakery", "assistant@example.com")
    assert staff.get("/admin/billing/").status_code == 403
    assert staff.post("/admin/billing/cancel").status_code == 403
    assert 'href="/admin/billing/"' not in staff.get("/admin/").content.decode()
    # Another store's owner, logged in on their own host, has no session here
    other_owner = logged_in(other.tenant.slug, "potter@example.com")
    assert other_owner.get("/admin/billing/").status_code == 200  # their own page
    stranger = Client(HTTP_HOST=store_host("bakery"))
    stranger.cookies = other_owner.cookies
    response = stranger.get("/admin/billing/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert stranger.post("/admin/billing/cancel").status_code == 302
    assert not Subscription.objects.get(tenant=store.tenant).cancel_at_period_end
    # The root host has no store billing page: /admin/ there is the platform's admin, which sends
    # anyone not signed in to its login (every admin URL does, so never a 404 before login)...
    on_root = Client(HTTP_HOST="localhost").get("/admin/billing/")
    assert (on_root.status_code, on_root["Location"]) == (302, "/admin/login/?next=/admin/billing/")
    # ...and shows a platform operator the control plane's billing models there
    operator_page = staff_browser.get("/admin/billing/")
    assert operator_page.status_code == 200
    assert "<title>Billing administration | LocalBazaar platform</title>" in operator_page.content.decode()


def test_a_preview_then_confirm_changes_the_plan(owner, store):
    preview = owner.post("/admin/billing/preview", {"plan": "growth"}, HTTP_HX_REQUEST="true")

    assert preview.status_code == 200
    assert b"Confirm change to Growth" in preview.content
    assert b'id="proration-total"' in preview.content
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "starter"  # a preview changes nothing

    response = owner.post("/admin/billing/change-plan", {"plan": "growth"})

    assert response.status_code == 302
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "growth"
    assert b"now on the Growth plan" in owner.get("/admin/billing/").content


def test_a_preview_of_an_unknown_plan_says_why(owner):
    preview = owner.post("/admin/billing/preview", {"plan": "platinum"})

    assert b"Unknown plan" in preview.content


def test_cancel_and_resume_from_the_page(owner, store):
    owner.post("/admin/billing/cancel")
    assert Subscription.objects.get(tenant=store.tenant).cancel_at_period_end
    page = owner.get("/admin/billing/").content.decode()
    assert 'id="resume"' in page and "ends on" in page.lower()

    owner.post("/admin/billing/resume")
    assert not Subscription.objects.get(tenant=store.tenant).cancel_at_period_end


def test_invoices_are_listed_with_their_pdf_for_the_owner_only(
    owner, store, make_store, django_capture_on_commit_callbacks
):
    subscription, at = period_ended(store.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)
    html = owner.get("/admin/billing/").content.decode()
    assert invoice.number in html and "Paid" in html

    pdf = owner.get(f"/admin/billing/invoices/{invoice.number}.pdf")

    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    other = make_store(subdomain="pottery", email="potter@example.com")
    other_owner = logged_in(other.tenant.slug, "potter@example.com")
    assert other_owner.get(f"/admin/billing/invoices/{invoice.number}.pdf").status_code == 404


# --- Cancel and resume over the API --------------------------------------------------------------


def test_cancel_at_period_end_then_resume_over_the_api(store):
    owner = store_api("bakery", store.token)

    cancelled = owner.post("/api/v1/billing/cancel")
    again = owner.post("/api/v1/billing/cancel")

    assert cancelled.status_code == again.status_code == 200
    assert cancelled.json()["cancel_at_period_end"] is True
    assert "ends on" in cancelled.json()["notice"]
    # The projected bill has no fee for a period that will not come
    usage = owner.get("/api/v1/billing/usage").json()
    assert "flat_fee" not in [line["kind"] for line in usage["lines"]]

    resumed = owner.post("/api/v1/billing/resume")

    assert resumed.status_code == 200
    assert resumed.json()["cancel_at_period_end"] is False
    assert resumed.json()["notice"] is None


def test_a_cancelled_subscription_ends_at_period_close_and_the_store_closes(store, django_capture_on_commit_callbacks):
    owner = store_api("bakery", store.token)
    owner.post("/api/v1/billing/cancel")
    subscription, at = period_ended(store.tenant)
    record_usage(store.tenant.pk, "orders", 51, idempotency_key="o", occurred_at=at - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)

    # The last invoice bills the period's usage and no further fee
    assert [item.kind for item in invoice.items.all()] == ["usage", "usage", "usage", "usage", "tax"]
    assert invoice.total == 20
    subscription.refresh_from_db()
    assert (subscription.status, subscription.canceled_at, subscription.billing_hold) == ("canceled", at, "ended")
    tenant = Tenant.objects.get(pk=store.tenant.pk)
    assert (tenant.status, tenant.suspension_reason) == ("suspended", "The store's subscription has ended.")
    assert Client(HTTP_HOST=store_host("bakery")).get("/").status_code == 503
    # Nothing more is invoiced, and it cannot be resumed
    assert invoicing.close_due_periods(at + timedelta(days=60)) == 0
    assert Invoice.objects.filter(tenant=tenant).count() == 1
    refused = owner.post("/api/v1/billing/resume")
    assert (refused.status_code, refused.json()["code"]) == (409, "subscription_canceled")


def test_staff_cannot_cancel_over_the_api(store):
    from tenants.accounts.services import issue_api_token
    from tenants.db_backend import connection

    connection.set_tenant(store.tenant)
    assistant = add_staff_member("assistant@example.com", STRONG_PASSWORD)
    token = issue_api_token(assistant)
    connection.set_schema_to_public()

    assert store_api("bakery", token).post("/api/v1/billing/cancel").status_code == 403
    assert store_api("bakery", token).post("/api/v1/billing/retry-payment").status_code == 403
    assert not Subscription.objects.get(tenant=store.tenant).cancel_at_period_end
