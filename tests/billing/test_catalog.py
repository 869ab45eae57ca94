"""The plan catalog: seeded defaults, database constraints, the control-plane admin, `GET /api/v1/plans`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.test import Client

from billing.catalog_defaults import restore_empty_catalog
from billing.models import Plan, UsageCharge, UsageTier
from billing.rating import Graduated, PerUnit, Volume, compute_invoice
from tests.conftest import STRONG_PASSWORD, store_host

pytestmark = pytest.mark.django_db


# --- The seeded catalog --------------------------------------------------------------------------


def test_the_catalog_is_seeded_with_three_shared_plans_and_a_dedicated_one():
    plans = {plan.code: plan for plan in Plan.objects.all()}

    assert [code for code, plan in plans.items() if plan.tenancy == "shared"] == ["starter", "growth", "scale"]
    assert plans["dedicated"].tenancy == "dedicated"
    assert plans["dedicated"].monthly_fee > plans["scale"].monthly_fee  # its own base fee
    assert {plan.currency for plan in plans.values()} == {"GBP"}
    assert all(plan.is_public for plan in plans.values())


def test_every_seeded_plan_can_be_rated():
    for plan in Plan.objects.prefetch_related("usage_charges__tiers"):
        invoice = compute_invoice(plan.to_rating(), {"orders": 12_345, "gmv": 1_000_000, "storage_gb": 7})

        assert invoice.total >= plan.monthly_fee


def test_the_seeded_plans_use_graduated_volume_package_and_percentage_pricing():
    charges = {(c.plan.code, c.metric): c.to_rating() for c in UsageCharge.objects.select_related("plan")}

    assert isinstance(charges["growth", "orders"].pricing, Graduated)
    assert isinstance(charges["scale", "orders"].pricing, Volume)
    assert isinstance(charges["starter", "orders"].pricing, PerUnit)
    assert charges["starter", "gmv"].pricing.basis_points == 200  # type: ignore[union-attr]
    assert charges["starter", "api_requests"].pricing.size == 10_000  # type: ignore[union-attr]


def test_an_emptied_catalog_gets_the_defaults_back_after_migrate():
    # Given a flushed catalog (a test teardown, manage.py flush)
    Plan.objects.all().delete()

    # When post_migrate runs
    restore_empty_catalog(sender=None, apps=apps)

    # Then the defaults are back, tiers included
    assert sorted(Plan.objects.values_list("code", flat=True)) == ["dedicated", "growth", "scale", "starter"]
    assert UsageTier.objects.filter(charge__plan__code="scale").count() == 2


def test_a_catalog_with_any_plan_is_left_alone_after_migrate():
    Plan.objects.exclude(code="growth").delete()
    Plan.objects.filter(code="growth").update(monthly_fee=3_100)

    restore_empty_catalog(sender=None, apps=apps)

    assert list(Plan.objects.values_list("code", "monthly_fee")) == [("growth", 3_100)]


# --- Database constraints ------------------------------------------------------------------------


def new_plan(**overrides) -> Plan:
    fields = {"code": "custom", "name": "Custom", "monthly_fee": 100, "yearly_fee": 1_000, **overrides}
    return Plan.objects.create(**fields)


@pytest.mark.parametrize(
    "make",
    [
        lambda: new_plan(currency="gbp"),
        lambda: new_plan(monthly_fee=-1),
        lambda: new_plan(tenancy="vip"),
        lambda: new_plan(code="starter"),
        lambda: UsageCharge.objects.create(plan=new_plan(), metric="orders", pricing="per_unit"),
        lambda: UsageCharge.objects.create(
            plan=new_plan(), metric="orders", pricing="per_unit", unit_amount=Decimal(1), package_size=5
        ),
        lambda: UsageCharge.objects.create(plan=new_plan(), metric="orders", pricing="percentage", percentage_bps=5),
        lambda: UsageCharge.objects.create(plan=new_plan(), metric="gmv", pricing="per_unit", unit_amount=Decimal(1)),
        lambda: UsageCharge.objects.create(plan=new_plan(), metric="gmv", pricing="percentage", percentage_bps=10_001),
        lambda: UsageCharge.objects.create(plan=new_plan(), metric="orders", pricing="package", package_size=0),
        lambda: UsageCharge.objects.create(plan=new_plan(), metric="bandwidth", pricing="graduated"),
        lambda: UsageCharge.objects.create(plan=Plan.objects.get(code="starter"), metric="orders", pricing="volume"),
        lambda: UsageTier.objects.create(charge=UsageCharge.objects.get(plan__code="scale", metric="orders")),
        lambda: UsageTier.objects.create(
            charge=UsageCharge.objects.get(plan__code="scale", metric="orders"), up_to=10, unit_amount=Decimal(-1)
        ),
    ],
    ids=[
        "lower-case currency",
        "negative fee",
        "unknown tenancy",
        "duplicate code",
        "per-unit without a unit amount",
        "per-unit with a package size",
        "percentage on orders",
        "GMV per unit",
        "more than 100 percent",
        "empty package",
        "unknown metric",
        "a second charge for one metric",
        "a second unbounded tier",
        "a negative tier price",
    ],
)
def test_the_database_refuses_an_invalid_catalog(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


# --- The control-plane admin ---------------------------------------------------------------------


def test_platform_staff_edit_a_plan_in_the_control_plane_admin(platform_admin_browser):
    plan = Plan.objects.get(code="growth")
    page = platform_admin_browser.get(f"/admin/billing/plan/{plan.pk}/change/")
    assert page.status_code == 200
    assert b"orders" in page.content  # its usage charges are listed

    form = {
        "code": "growth",
        "name": "Growth",
        "tenancy": "shared",
        "is_public": "on",
        "sort_order": 20,
        "currency": "GBP",
        "monthly_fee": 3_100,
        "yearly_fee": 31_000,
        "max_products": 2_500,
        "staff_seats": 5,
        "custom_domains": 1,
        "usage_charges-TOTAL_FORMS": 0,
        "usage_charges-INITIAL_FORMS": 0,
    }
    response = platform_admin_browser.post(f"/admin/billing/plan/{plan.pk}/change/", form)

    assert response.status_code == 302, response.content
    plan.refresh_from_db()
    assert (plan.monthly_fee, plan.max_products) == (3_100, 2_500)


def tier_form(prefix_total: int, tiers: list[tuple[str, str, str]]) -> dict[str, object]:
    form: dict[str, object] = {
        "tiers-TOTAL_FORMS": prefix_total,
        "tiers-INITIAL_FORMS": 0,
    }
    for i, (up_to, unit_amount, flat_amount) in enumerate(tiers):
        form |= {
            f"tiers-{i}-up_to": up_to,
            f"tiers-{i}-unit_amount": unit_amount,
            f"tiers-{i}-flat_amount": flat_amount,
        }
    return form


def test_the_admin_adds_a_tiered_charge_with_its_tiers(platform_admin_browser):
    plan = new_plan()
    form = {"plan": plan.pk, "metric": "orders", "pricing": "graduated", "included": 100}
    form |= tier_form(2, [("1000", "10", "0"), ("", "5", "0")])

    response = platform_admin_browser.post("/admin/billing/usagecharge/add/", form)

    assert response.status_code == 302, response.content
    charge = UsageCharge.objects.get(plan=plan)
    assert [tier.up_to for tier in charge.tiers.all()] == [1_000, None]


@pytest.mark.parametrize(
    ("pricing", "tiers", "message"),
    [
        ("volume", [("100", "100", "0"), ("", "50", "0")], b"cost less"),
        ("graduated", [], b"at least one tier"),
        ("graduated", [("100", "1", "0")], b"must be unbounded"),
        ("per_unit", [("", "1", "0")], b"Only graduated and volume"),
    ],
)
def test_the_admin_refuses_tiers_the_engine_cannot_rate(platform_admin_browser, pricing, tiers, message):
    plan = new_plan()
    form = {"plan": plan.pk, "metric": "orders", "pricing": pricing, "included": 0}
    if pricing == "per_unit":
        form["unit_amount"] = "1"
    form |= tier_form(len(tiers), tiers)

    response = platform_admin_browser.post("/admin/billing/usagecharge/add/", form)

    assert response.status_code == 200  # the form again, with the error
    assert message in response.content
    assert not UsageCharge.objects.filter(plan=plan).exists()


def test_the_admin_explains_a_charge_whose_fields_do_not_match_its_pricing(platform_admin_browser):
    form = {"plan": new_plan().pk, "metric": "orders", "pricing": "package", "included": 0} | tier_form(0, [])

    response = platform_admin_browser.post("/admin/billing/usagecharge/add/", form)

    assert response.status_code == 200
    assert b"Fill in exactly the fields of the pricing model" in response.content


def test_the_catalog_is_not_in_a_store_admin(make_store):
    store = make_store()
    browser = Client(HTTP_HOST=store_host(store.tenant.slug))
    browser.post("/admin/login/?next=/admin/", {"username": store.owner.email, "password": STRONG_PASSWORD})
    assert browser.get("/admin/").status_code == 200  # the owner is in their store's admin

    assert browser.get("/admin/billing/plan/").status_code == 404


# --- GET /api/v1/plans ---------------------------------------------------------------------------


def test_anyone_lists_the_public_catalog_on_the_root_host(root_api, django_assert_num_queries):
    Plan.objects.filter(code="scale").update(is_public=False)

    with django_assert_num_queries(3):  # plans, charges, tiers
        response = root_api.get("/api/v1/plans")

    assert response.status_code == 200
    plans = response.json()
    assert [plan["code"] for plan in plans] == ["starter", "growth", "dedicated"]
    growth = plans[1]
    assert growth["currency"] == "GBP"
    assert growth["monthly_fee"] == 2_900
    assert growth["limits"] == {"max_products": 2_000, "staff_seats": 5, "custom_domains": 1}
    orders = next(charge for charge in growth["usage_charges"] if charge["metric"] == "orders")
    assert orders["aggregation"] == "count"
    assert orders["pricing"] == "graduated"
    assert orders["included"] == 500
    assert orders["tiers"] == [
        {"up_to": 5_000, "unit_amount": "10.0000", "flat_amount": 0},
        {"up_to": None, "unit_amount": "5.0000", "flat_amount": 0},
    ]


def test_a_bad_token_does_not_hide_the_catalog(root_api):
    root_api.credentials(HTTP_AUTHORIZATION="Bearer nonsense")

    assert root_api.get("/api/v1/plans").status_code == 200


def test_the_catalog_is_not_served_on_a_store_host(make_store):
    store = make_store()

    assert Client(HTTP_HOST=store_host(store.tenant.slug)).get("/api/v1/plans").status_code == 404


@pytest.mark.usefixtures("committed_tenancy")
def test_signup_still_finds_its_plan_after_a_committed_test_flushed_the_database(make_store):
    # Runs after other committed tests, whose teardown flush empties every public table: post_migrate
    # (sent by flush without `apps`) restores the catalog.
    Plan.objects.all().delete()
    restore_empty_catalog(sender=None)

    assert make_store().tenant.plan_code == "starter"


def test_staff_see_subscriptions_usage_and_invoices_but_cannot_edit_them(platform_admin_browser, make_store):
    store = make_store(subdomain="bakery")
    subscription = store.tenant.subscription

    for url in ("/admin/billing/subscription/", "/admin/billing/usageevent/", "/admin/billing/invoice/"):
        assert platform_admin_browser.get(url).status_code == 200, url
    page = platform_admin_browser.get(f"/admin/billing/subscription/{subscription.pk}/change/")
    assert page.status_code == 200 and b"bakery" in page.content
    assert platform_admin_browser.get("/admin/billing/subscription/add/").status_code == 403
    platform_admin_browser.post(f"/admin/billing/subscription/{subscription.pk}/change/", {"status": "canceled"})
    subscription.refresh_from_db()
    assert subscription.status == "active"
