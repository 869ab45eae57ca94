"""A tenant's page in the staff console (`/console/tenants/<slug>/`): its record and hostnames, its status
history, billing's panel (plan, usage this period, projected bill, invoices), provisioning's runs, and
the actions its state allows, which post to the console's endpoints and come back to the page."""

from __future__ import annotations

import re

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from billing.invoicing import close_billing_period
from billing.services import record_usage
from provisioning.models import ProvisioningRun
from tenants import lifecycle
from tenants.models import Tenant, TenantStateChange
from tests.billing.conftest import period_ended
from tests.conftest import ROOT_HOST, STAFF_EMAIL, STRONG_PASSWORD, make_platform_staff

pytestmark = pytest.mark.django_db
# Session, user, platform role; the tenant, its hostnames, its history; billing's panel: the subscription
# with its plan, the plan's charges and their tiers, the period's usage, pending items, invoices;
# provisioning's panel: its runs with who asked.
PAGE_QUERIES = 13


def url(slug: str) -> str:
    return f"/console/tenants/{slug}/"


def buttons(html: str) -> list[str]:
    section = html.split('id="tenant-actions-section"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<button type="submit">([^<]+)</button>', section)


def test_staff_see_a_stores_record_history_billing_and_domains(
    staff_browser, staff_user, make_store, django_assert_num_queries
):
    # Given a store that was suspended and reopened, has a custom domain, an invoice and usage this period
    store = make_store(subdomain="bakery", store_name="Hebden Bakery", email="jane@bakery.example.com")
    tenant = store.tenant
    staff = lifecycle.Actor.user(staff_user)
    lifecycle.suspend(tenant, "Chargeback dispute", by=staff)
    lifecycle.reactivate(tenant, by=staff, reason="Dispute settled")
    lifecycle.add_domain(tenant, "shop.hebdenbakery.co.uk", by=lifecycle.Actor.system("domains"))
    subscription, at = period_ended(tenant)
    invoice = close_billing_period(subscription, at)
    record_usage(tenant.pk, "orders", 3, idempotency_key="o-1", occurred_at=timezone.now())
    staff_browser.get("/console/")  # warm the session

    # When staff open its page
    with django_assert_num_queries(PAGE_QUERIES):
        page = staff_browser.get(url("bakery"))

    # Then everything the control plane knows of it is there
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Hebden Bakery</h1>" in html and "jane@bakery.example.com" in html
    assert "shop.hebdenbakery.co.uk" in html and "bakery.localhost (primary)" in html
    history = html.split('id="tenant-history"', 1)[1]
    assert "Chargeback dispute" in history and "Dispute settled" in history
    assert f"user:{STAFF_EMAIL}" in history and "system:signup" in history
    assert "status: active &rarr; suspended" in history
    billing = html.split('id="panel-billing"', 1)[1].split("</section>", 1)[0]
    assert "<strong>Starter</strong>" in billing and 'id="subscription-status" class="">Active<' in billing
    assert re.search(r'id="usage-orders"><td>orders</td><td class="amount">3<', billing)
    assert invoice.number in billing
    assert 'id="projected-total"' in billing
    assert "No provisioning run: a shared store needs none." in html
    assert buttons(html) == ["Suspend", "Upgrade to dedicated"]


@pytest.mark.parametrize(
    ("status", "tenancy", "expected"),
    [
        ("suspended", "shared", ["Reactivate"]),
        ("pending_provisioning", "dedicated", ["Approve", "Reject"]),
        ("active", "dedicated", ["Suspend", "Deprovision"]),
        ("suspended", "dedicated", ["Reactivate", "Deprovision"]),
        ("provisioning", "dedicated", []),
        ("deprovisioned", "dedicated", []),
    ],
)
def test_the_page_offers_the_actions_its_state_allows(staff_browser, make_store, status, tenancy, expected):
    store = make_store(subdomain="shop", tenancy=tenancy)
    Tenant.objects.filter(pk=store.tenant.pk).update(status=status)

    html = staff_browser.get(url("shop")).content.decode()

    assert buttons(html) == expected
    if "Suspend" in expected:
        assert 'hx-prompt="Reason for suspending' in html
    if not expected:
        assert "No action applies to a" in html


def test_a_dedicated_stores_page_lists_its_provisioning_runs(staff_browser, make_store):
    store = make_store(subdomain="pottery", store_name="Calder Pottery", tenancy="dedicated")
    first = ProvisioningRun.objects.create(tenant=store.tenant, state="cancelled", backend="local")
    latest = ProvisioningRun.objects.create(tenant=store.tenant, state="failed", backend="local", error="no space")

    html = staff_browser.get(url("pottery")).content.decode()
    runs = html.split('id="panel-provisioning"', 1)[1].split("</section>", 1)[0]

    assert runs.index(f"#{latest.pk}") < runs.index(f"#{first.pk}")  # latest first
    assert f'href="/console/provisioning/runs/{latest.pk}/"' in runs and "no space" in runs
    assert "No subscription" in html  # a dedicated request is billed once its stack is live


def test_suspending_from_the_page_with_htmx_reloads_it_with_the_outcome(staff_browser, make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")

    response = staff_browser.post(
        "/console/tenants/bakery/suspend", {"from": "page"}, HTTP_HX_REQUEST="true", HTTP_HX_PROMPT="Fraud review"
    )

    assert response.status_code == 204 and response["HX-Redirect"] == url("bakery")
    html = staff_browser.get(url("bakery")).content.decode()
    assert "Hebden Bakery is now suspended." in html
    assert '<p id="tenant-status" class="status-suspended"><strong>Suspended</strong>: Fraud review</p>' in html
    assert buttons(html) == ["Reactivate"]
    assert Client(HTTP_HOST="bakery.localhost").get("/").status_code == 503


def test_without_javascript_the_form_posts_and_comes_back_to_the_page(staff_browser, make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")
    staff_browser.post("/console/tenants/bakery/suspend", {"from": "page", "reason": "Fraud review"})

    response = staff_browser.post("/console/tenants/bakery/reactivate", {"from": "page"})

    assert response.status_code == 303 and response["Location"] == url("bakery")
    html = staff_browser.get(url("bakery")).content.decode()
    assert "Hebden Bakery is now active." in html
    assert list(TenantStateChange.objects.filter(tenant__slug="bakery").values_list("reason", flat=True)[:2]) == [
        "",
        "Fraud review",
    ]


def test_an_action_its_state_refuses_changes_nothing_and_says_why(staff_browser, make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")
    changes = TenantStateChange.objects.count()

    response = staff_browser.post("/console/tenants/bakery/reactivate", {"from": "page"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    html = staff_browser.get(url("bakery")).content.decode()
    assert "is active; expected suspended" in html and 'class="error"' in html
    assert TenantStateChange.objects.count() == changes
    assert Tenant.objects.get(slug="bakery").status == "active"


def test_support_staff_see_the_page_but_may_not_suspend(make_store):
    make_store(subdomain="bakery", store_name="Hebden Bakery")
    make_platform_staff("support@localbazaar.test", role="support")
    support = Client(HTTP_HOST=ROOT_HOST)
    assert support.login(request=HttpRequest(), email="support@localbazaar.test", password=STRONG_PASSWORD)

    page = support.get(url("bakery"))
    refused = support.post("/console/tenants/bakery/suspend", {"from": "page", "reason": "No"})

    assert page.status_code == 200 and "Hebden Bakery" in page.content.decode()
    assert refused.status_code == 403
    assert Tenant.objects.get(slug="bakery").status == "active"


def test_an_unknown_store_is_404_and_visitors_are_sent_to_log_in(staff_browser, make_store):
    make_store(subdomain="bakery")

    assert staff_browser.get(url("no-such-store")).status_code == 404
    visitor = Client(HTTP_HOST=ROOT_HOST).get(url("bakery"))
    assert visitor.status_code == 302 and visitor["Location"].startswith("/admin/login/")
    assert Client(HTTP_HOST="bakery.localhost").get(url("bakery")).status_code == 404  # root host only
