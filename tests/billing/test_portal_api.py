"""The customer portal API on a store's host (`/api/v1/billing/...`): the owner's subscription, usage
and projected bill, invoices and plan changes with a proration preview; nobody else's."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from billing.models import Invoice, InvoiceItem, Subscription
from billing.services import record_usage
from tenants.accounts.models import Membership
from tenants.accounts.services import add_staff_member, issue_api_token
from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, make_platform_staff, store_api

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/billing/subscription"),
    ("get", "/api/v1/billing/usage"),
    ("get", "/api/v1/billing/invoices"),
    ("post", "/api/v1/billing/change-plan"),
]


@pytest.fixture
def store(make_store):
    return make_store(subdomain="bakery", email="baker@example.com")


@pytest.fixture
def owner(store):
    return store_api("bakery", store.token)


def mid_period(store) -> Subscription:
    """Put the store's subscription halfway through a 30-day period, so prorations are half a fee."""
    now = timezone.now()
    Subscription.objects.filter(tenant=store.tenant).update(
        current_period_start=now - timedelta(days=15), current_period_end=now + timedelta(days=15)
    )
    return Subscription.objects.get(tenant=store.tenant)


# --- Subscription and usage ----------------------------------------------------------------------


def test_the_owner_sees_the_subscription(owner, store):
    response = owner.get("/api/v1/billing/subscription")

    assert response.status_code == 200
    body = response.json()
    subscription = store.tenant.subscription
    assert body == {
        "plan": "starter",
        "plan_name": "Starter",
        "status": "active",
        "interval": "month",
        "current_period_start": body["current_period_start"],
        "current_period_end": body["current_period_end"],
        "cancel_at_period_end": False,
        "provider": "local",
        "payment_failed_at": None,
        "billing_hold": "",
        "notice": None,
    }
    assert body["current_period_start"].startswith(subscription.current_period_start.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["current_period_end"].startswith(subscription.current_period_end.strftime("%Y-%m-%dT%H:%M:%S"))


def test_the_owner_sees_usage_per_metric_and_the_projected_total(owner, store, django_assert_num_queries):
    # Given a Starter store (50 orders included then 20p, GMV 2 %, 10,000 API requests included then
    # 100p per 10,000, 1 GB included then 50p per GB) with usage this period
    tenant_id = store.tenant.pk
    record_usage(tenant_id, "orders", 60, idempotency_key="orders")
    record_usage(tenant_id, "gmv", 45_025, idempotency_key="gmv")  # £450.25 of sales
    record_usage(tenant_id, "storage_gb", 3, idempotency_key="storage")

    owner.get("/api/v1/billing/subscription")  # the host's route is cached from now on

    # When the owner looks: the token check is cached since the warm-up request (no query), owner
    # check (1), subscription and plan, charges, tiers, usage, pending items (5)
    with django_assert_num_queries(6):
        response = owner.get("/api/v1/billing/usage")

    # Then every metric shows its quantity against the allowance, and the total adds up
    assert response.status_code == 200
    body = response.json()
    assert (body["plan"], body["currency"]) == ("starter", "GBP")
    metrics = {row["metric"]: row for row in body["metrics"]}
    assert metrics["orders"] == {
        "metric": "orders",
        "aggregation": "count",
        "charged": True,
        "quantity": 60,
        "included": 50,
        "billable": 10,
        "amount": 200,
    }
    assert metrics["gmv"]["amount"] == 901  # 900.5p rounds half up, once
    assert (metrics["storage_gb"]["aggregation"], metrics["storage_gb"]["amount"]) == ("max", 100)
    assert (metrics["api_requests"]["quantity"], metrics["api_requests"]["amount"]) == (0, 0)
    assert [line["kind"] for line in body["lines"]] == ["flat_fee", "usage", "usage", "usage", "usage", "tax"]
    assert body["total"] == 900 + 200 + 901 + 0 + 100
    assert body["total"] == sum(line["amount"] for line in body["lines"])


def test_usage_of_another_store_never_shows(make_store, owner, store):
    other = make_store()
    record_usage(other.tenant.pk, "orders", 999, idempotency_key="theirs")

    body = owner.get("/api/v1/billing/usage").json()

    assert {row["metric"]: row["quantity"] for row in body["metrics"]}["orders"] == 0


# --- Invoices ------------------------------------------------------------------------------------


def make_invoice(tenant: Tenant, number: str, total: int) -> Invoice:
    subscription = Subscription.objects.get(tenant=tenant)
    return Invoice.objects.create(
        tenant=tenant,
        subscription=subscription,
        number=number,
        status="open",
        currency="GBP",
        period_start=subscription.current_period_start - timedelta(days=30),
        period_end=subscription.current_period_start,
        subtotal=total,
        total=total,
    )


def test_a_new_store_has_no_invoices(owner):
    response = owner.get("/api/v1/billing/invoices")

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_the_owner_lists_the_stores_invoices_only(owner, store, make_store):
    make_invoice(store.tenant, "LB-000001", 1_234)
    make_invoice(make_store().tenant, "LB-000002", 9_999)

    body = owner.get("/api/v1/billing/invoices").json()

    assert body["count"] == 1
    (invoice,) = body["results"]
    assert {key: invoice[key] for key in ("number", "status", "total", "currency", "pdf_url")} == {
        "number": "LB-000001",
        "status": "open",
        "total": 1_234,
        "currency": "GBP",
        "pdf_url": None,
    }


# --- Changing plan -------------------------------------------------------------------------------


def test_a_preview_shows_the_proration_and_changes_nothing(owner, store):
    mid_period(store)

    response = owner.post("/api/v1/billing/change-plan", {"plan": "growth", "preview": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["preview"], body["current_plan"], body["plan"], body["currency"]) == (True, "starter", "growth", "GBP")
    assert [(line["description"], line["amount"]) for line in body["lines"]] == [
        ("Unused time on Starter", -450),
        ("Remaining time on Growth", 1_450),
        ("Tax", 0),
    ]
    assert (body["total"], body["next_period_fee"]) == (1_000, 2_900)
    assert body["subscription"]["plan"] == "starter"
    # Nothing changed
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "starter"
    assert not InvoiceItem.objects.exists()


def test_confirming_changes_the_plan_and_keeps_the_proration_for_the_next_invoice(owner, store):
    subscription = mid_period(store)

    response = owner.post("/api/v1/billing/change-plan", {"plan": "growth"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["preview"], body["plan"], body["total"]) == (False, "growth", 1_000)
    assert body["subscription"]["plan"] == "growth"
    changed = Subscription.objects.get(tenant=store.tenant)
    assert changed.plan.code == "growth"
    assert (changed.current_period_start, changed.current_period_end) == (
        subscription.current_period_start,
        subscription.current_period_end,
    )
    assert list(InvoiceItem.objects.filter(invoice=None).values_list("kind", "amount")) == [
        ("proration", -450),
        ("proration", 1_450),
    ]
    assert Tenant.objects.get(pk=store.tenant.pk).plan_code == "growth"
    # The projected bill now carries the next period on Growth and the proration
    usage = owner.get("/api/v1/billing/usage").json()
    assert usage["plan"] == "growth"
    assert usage["total"] == 2_900 + 1_000


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"plan": "platinum"}, 400, "unknown_plan"),
        ({"plan": "starter"}, 400, "same_plan"),
        ({"plan": "dedicated"}, 400, "plan_not_for_tenancy"),
        ({"plan": "growth", "preview": True, "_canceled": True}, 409, "subscription_canceled"),
        ({"plan": "growth", "_canceled": True}, 409, "subscription_canceled"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(owner, store, body, status, code):
    if body.pop("_canceled", False):
        Subscription.objects.filter(tenant=store.tenant).update(status="canceled")

    response = owner.post("/api/v1/billing/change-plan", body, format="json")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "starter"
    assert not InvoiceItem.objects.exists()


def test_a_change_without_a_plan_is_a_field_error(owner):
    response = owner.post("/api/v1/billing/change-plan", {"preview": True}, format="json")

    assert response.status_code == 400
    assert "plan" in response.json()


# --- Who may see billing -------------------------------------------------------------------------


def call(client, method: str, url: str):
    if method == "post":
        return client.post(url, {"plan": "growth"}, format="json")
    return client.get(url)


def assert_billing_untouched(store) -> None:
    """A refused caller changed no plan and billed no proration."""
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "starter"
    assert Tenant.objects.get(pk=store.tenant.pk).plan_code == "starter"
    assert not InvoiceItem.objects.exists()


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_callers_are_refused(store, method, url):
    assert call(store_api("bakery"), method, url).status_code == 401
    assert_billing_untouched(store)


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_another_stores_owner_token_is_refused(store, make_store, method, url):
    other = make_store(subdomain="pottery", email="potter@example.com")

    response = call(store_api("bakery", other.token), method, url)

    assert response.status_code == 401
    assert_billing_untouched(store)
    assert Subscription.objects.get(tenant=other.tenant).plan.code == "starter"


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_the_stores_staff_are_refused(store, method, url):
    connection.set_tenant(store.tenant)
    assistant = add_staff_member("assistant@example.com", STRONG_PASSWORD, role=Membership.Role.STAFF)
    token = issue_api_token(assistant)
    connection.set_schema_to_public()

    response = call(store_api("bakery", token), method, url)

    assert response.status_code == 403
    assert_billing_untouched(store)


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_platform_staff_have_no_store_billing_api(store, root_api, method, url):
    make_platform_staff()
    token = root_api.post(
        "/api/v1/auth/token", {"email": "staff@localbazaar.test", "password": STRONG_PASSWORD}, format="json"
    ).json()["token"]
    root_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert call(root_api, method, url).status_code == 404  # not on the root host
    assert call(store_api("bakery", token), method, url).status_code == 401  # not a store account
    assert_billing_untouched(store)


# --- OpenAPI -------------------------------------------------------------------------------------


def test_the_portal_and_the_catalog_are_in_the_openapi_schema(owner, root_api):
    store_schema = owner.get("/api/schema/?format=json").json()
    root_schema = root_api.get("/api/schema/?format=json").json()

    for _, url in ENDPOINTS:
        assert url in store_schema["paths"], url
    change = store_schema["paths"]["/api/v1/billing/change-plan"]["post"]
    assert change["tags"] == ["billing"]
    assert set(change["responses"]) == {"200", "400", "404", "409"}
    assert "/api/v1/plans" in root_schema["paths"]
    assert "/api/v1/billing/usage" not in root_schema["paths"]


@pytest.mark.usefixtures("committed_tenancy")
def test_concurrent_changes_apply_one_after_the_other(make_store):
    # Given a Starter store halfway through its period, and two changes sent at the same moment
    store = make_store(subdomain="bakery", email="baker@example.com")
    mid_period(store)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def change(plan: str) -> None:
        try:
            client = store_api("bakery", store.token)
            barrier.wait()
            statuses.append(client.post("/api/v1/billing/change-plan", {"plan": plan}, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=change, args=(plan,)) for plan in ("growth", "scale")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then both are applied in turn: the second credits the plan the first moved to, never Starter twice
    assert statuses == [200, 200]
    credits = list(InvoiceItem.objects.filter(amount__lt=0).order_by("pk").values_list("description", flat=True))
    final = Subscription.objects.get(tenant=store.tenant).plan.name
    first_target = "Scale" if final == "Growth" else "Growth"
    assert credits == ["Unused time on Starter", f"Unused time on {first_target}"]


def test_a_subscription_ending_with_its_period_projects_no_next_fee(owner, store):
    Subscription.objects.filter(tenant=store.tenant).update(cancel_at_period_end=True)

    body = owner.get("/api/v1/billing/usage").json()

    assert "flat_fee" not in [line["kind"] for line in body["lines"]]
    assert body["total"] == 0
