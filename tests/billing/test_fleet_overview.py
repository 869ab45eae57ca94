"""The staff console's platform overview (`/console/overview/`): the fleet now (active stores, MRR per
currency, the schema pool, provisioning runs in flight), then new stores, orders and GMV per day of the
whole platform, read from the tenant registry and billing's usage events; GMV per currency; days are
the project's TIME_ZONE days. Platform staff only."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from billing.models import Plan, Subscription, UsageEvent
from billing.services import record_usage
from provisioning.models import ProvisioningRun
from tenants.accounts.models import User
from tenants.models import PooledSchema, Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, make_platform_staff, store_api, store_host
from tests.storefront.orders.conftest import add_product, fill_cart, shop, sign_up_buyer

pytestmark = pytest.mark.django_db
PAGE = "/console/overview/"
# Session, user, platform role; active stores, MRR (one GROUP BY), the pool, runs in flight (provisioning's
# figure); then signups, orders and GMV: one GROUP BY each, however many stores.
PAGE_QUERIES = 10


def figures(html: str, key: str) -> dict[str, int]:
    """The data table under one chart: {"YYYY-MM-DD": value} for every day it lists."""
    table = re.search(rf'<table id="{re.escape(key)}-table">(.*?)</table>', html, re.S)
    assert table, f"no table for {key}"
    return {day: int(value) for day, value in re.findall(r'data-day="([\d-]+)" data-value="(\d+)"', table.group(1))}


def today() -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(settings.TIME_ZONE)).date()


def at(day: date, hour: int = 12, minute: int = 0, *, microsecond: int = 0) -> datetime:
    """A moment of `day` on the project's clock (its TIME_ZONE)."""
    return datetime.combine(day, time(hour, minute, 0, microsecond), tzinfo=ZoneInfo(settings.TIME_ZONE))


def signed_up_on(store, moment: datetime) -> None:
    Tenant.objects.filter(pk=store.tenant.pk).update(created_at=moment)


def sale(store, key: str, total: int, moment: datetime) -> None:
    """What a paid order records in billing: one order and its total as GMV."""
    record_usage(store.tenant.pk, "orders", 1, idempotency_key=f"order-{key}-orders", occurred_at=moment)
    record_usage(store.tenant.pk, "gmv", total, idempotency_key=f"order-{key}-gmv", occurred_at=moment)


@pytest.fixture
def euro_plan() -> Plan:
    return Plan.objects.create(
        code="starter-eur", name="Starter (EUR)", currency="EUR", monthly_fee=900, yearly_fee=9000
    )


def test_anonymous_visitors_are_sent_to_the_platform_login():
    response = Client(HTTP_HOST=ROOT_HOST).get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/console/overview/")


def test_is_staff_without_a_platform_role_and_store_owners_do_not_see_it(make_store):
    store = make_store(subdomain="bakery", email="baker@example.com")
    sale(store, "1", 1250, timezone.now())
    User.objects.create_user("owner-like@example.com", STRONG_PASSWORD, is_staff=True, is_superuser=True)
    role_less = Client(HTTP_HOST=ROOT_HOST)
    assert role_less.login(request=HttpRequest(), email="owner-like@example.com", password=STRONG_PASSWORD)
    owner = Client(HTTP_HOST=store_host("bakery"))
    login = owner.post("/admin/login/?next=/admin/", {"username": "baker@example.com", "password": STRONG_PASSWORD})
    assert login.status_code == 302, "the owner could not log in to the store admin"
    owner_on_root = Client(HTTP_HOST=ROOT_HOST)
    owner_on_root.cookies = owner.cookies

    refused = role_less.get(PAGE)
    on_own_host = owner.get(PAGE)
    with_store_session = owner_on_root.get(PAGE)

    assert refused.status_code == 403 and b"GMV" not in refused.content
    assert on_own_host.status_code == 404  # the console lives on the root host only
    assert with_store_session.status_code == 302 and with_store_session["Location"].startswith("/admin/login/")


def test_support_staff_see_it_from_the_console(make_store):
    make_platform_staff("support@localbazaar.test", role="support")
    browser = Client(HTTP_HOST=ROOT_HOST)
    assert browser.login(request=HttpRequest(), email="support@localbazaar.test", password=STRONG_PASSWORD)

    console = browser.get("/console/")
    page = browser.get(PAGE)

    assert 'href="/console/overview/"' in console.content.decode()
    assert page.status_code == 200
    assert 'id="signups-table"' in page.content.decode() and 'id="gmv-none"' in page.content.decode()


def test_staff_see_signups_orders_and_gmv_per_day_as_recorded_each_currency_apart(
    staff_browser, make_store, euro_plan, django_assert_num_queries
):
    # Given stores signed up on three days (one on a euro plan) and their paid orders recorded
    day = today()
    bakery = make_store(subdomain="bakery", email="baker@example.com")
    pottery = make_store(subdomain="pottery", email="potter@example.com")
    florist = make_store(subdomain="florist", email="flo@example.com", plan="starter-eur")
    signed_up_on(bakery, at(day - timedelta(days=20)))
    signed_up_on(pottery, at(day - timedelta(days=20), 18))
    signed_up_on(florist, at(day - timedelta(days=3)))
    sale(bakery, "b1", 1250, at(day - timedelta(days=2), 9))
    sale(bakery, "b2", 2500, at(day - timedelta(days=2), 17))
    sale(pottery, "p1", 4000, at(day - timedelta(days=2), 11))
    sale(pottery, "p2", 999, at(day - timedelta(days=1), 8, microsecond=1))
    sale(florist, "f1", 300, at(day - timedelta(days=2), 10))
    record_usage(
        bakery.tenant.pk, "api_requests", 500, idempotency_key="api-1", occurred_at=at(day - timedelta(days=2))
    )
    staff_browser.get("/console/")  # warm the session and the route

    # When staff open the overview
    with django_assert_num_queries(PAGE_QUERIES):
        page = staff_browser.get(PAGE)

    # Then every day of the last 30 is listed, and the figures are what was recorded, each on its own day
    assert page.status_code == 200
    html = page.content.decode()
    days = [(day - timedelta(days=n)).isoformat() for n in range(29, -1, -1)]
    signups, orders = figures(html, "signups"), figures(html, "orders")
    gbp, eur = figures(html, "gmv-GBP"), figures(html, "gmv-EUR")
    assert list(signups) == list(orders) == list(gbp) == list(eur) == days
    assert {d: n for d, n in signups.items() if n} == {days[9]: 2, days[26]: 1}
    assert {d: n for d, n in orders.items() if n} == {days[27]: 4, days[28]: 1}
    assert {d: n for d, n in gbp.items() if n} == {days[27]: 7750, days[28]: 999}
    assert {d: n for d, n in eur.items() if n} == {days[27]: 300}  # never added to the pounds
    assert 'id="signups-total">3<' in html and 'id="orders-total">5<' in html
    assert 'id="gmv-GBP-total">£87.49<' in html and 'id="gmv-EUR-total">€3.00<' in html
    assert "GMV per day in GBP, " in html and "total £87.49, peak £77.50" in html  # the charts' labels
    assert html.count('<svg class="fleet-chart"') == 4


def test_a_paid_order_placed_in_a_store_shows_on_todays_row(staff_browser, make_store, root_api):
    # Given a store with a buyer's order, paid
    store = make_store(subdomain="bakery", email="baker@example.com")
    buyer = sign_up_buyer(root_api)
    client = shop(store, buyer)
    fill_cart(client, (add_product(store, stock=5, price=1250), 2))
    order = client.post("/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json")
    assert order.status_code == 201, order.content
    order_id = order.json()["order"]["id"]
    paid = store_api("bakery", store.token).post(f"/api/v1/orders/{order_id}/transition", {"to": "paid"}, format="json")
    assert paid.status_code == 200, paid.content

    # When staff look at the last week
    html = staff_browser.get(PAGE, {"days": "7"}).content.decode()

    # Then today has the store's signup, its order and its GMV, and no other day has anything
    key = today().isoformat()
    assert {d: n for d, n in figures(html, "signups").items() if n} == {key: 1}
    assert {d: n for d, n in figures(html, "orders").items() if n} == {key: 1}
    assert {d: n for d, n in figures(html, "gmv-GBP").items() if n} == {key: 2500}


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def test_nothing_of_one_day_leaks_into_another_at_midnight_of_the_projects_time_zone(
    settings, zone, staff_browser, make_store
):
    # Given the project's clock in `zone`, a signup and sales a microsecond either side of a midnight,
    # and a sale a microsecond before the window's first day
    settings.TIME_ZONE = zone
    day = today() - timedelta(days=3)
    first_of_day = at(day, 0, 0)
    last_of_day = first_of_day - timedelta(microseconds=1)
    before_window = at(today() - timedelta(days=6), 0, 0) - timedelta(microseconds=1)
    early, late = make_store(subdomain="early"), make_store(subdomain="late")
    signed_up_on(early, last_of_day)
    signed_up_on(late, first_of_day)
    sale(early, "e1", 100, last_of_day)
    sale(late, "l1", 200, first_of_day)
    sale(late, "old", 400, before_window)

    # When staff look at the last week
    html = staff_browser.get(PAGE, {"days": "7"}).content.decode()

    # Then each lands on its own day of that clock, and what came before the window is not shown at all
    before, on = (day - timedelta(days=1)).isoformat(), day.isoformat()
    assert {d: n for d, n in figures(html, "signups").items() if n} == {before: 1, on: 1}
    assert {d: n for d, n in figures(html, "orders").items() if n} == {before: 1, on: 1}
    assert {d: n for d, n in figures(html, "gmv-GBP").items() if n} == {before: 100, on: 200}
    assert 'id="gmv-GBP-total">£3.00<' in html
    assert UsageEvent.objects.filter(metric="gmv").count() == 3  # the old sale is recorded, only not in the window


@pytest.mark.parametrize(("asked", "shown"), [("7", 7), ("90", 90), ("30", 30), ("14", 30), ("abc", 30), ("", 30)])
def test_the_window_is_7_30_or_90_days_and_anything_else_is_30(staff_browser, asked, shown):
    page = staff_browser.get(PAGE, {"days": asked})

    assert page.status_code == 200
    rows = figures(page.content.decode(), "signups")
    assert len(rows) == shown
    assert list(rows)[-1] == today().isoformat()
    assert f'<strong aria-current="page">{shown} days</strong>' in page.content.decode()


def test_staff_see_active_stores_mrr_per_currency_the_pool_and_runs_in_flight(
    staff_browser, make_store, euro_plan, django_assert_num_queries
):
    # Given stores on monthly and yearly plans in two currencies, one past due, one canceled, one
    # suspended, one trialing, and a dedicated request being provisioned
    def on(store, **fields) -> None:
        Subscription.objects.filter(tenant=store.tenant).update(**fields)

    make_store(subdomain="bakery")  # starter, monthly: 9.00 GBP
    yearly = make_store(subdomain="pottery")
    on(yearly, interval="year")  # starter, yearly: 90.00 GBP, so 7.50 a month
    late = make_store(subdomain="florist")
    on(late, status="past_due")  # still counted: its grace period runs
    gone = make_store(subdomain="closed")
    on(gone, status="canceled")
    trial = make_store(subdomain="trial")
    on(trial, status="trialing")
    make_store(subdomain="euros", plan="starter-eur")  # 9.00 EUR
    suspended = make_store(subdomain="paused")
    Tenant.objects.filter(pk=suspended.tenant.pk).update(status="suspended")
    dedicated = make_store(subdomain="big", tenancy="dedicated")
    Tenant.objects.filter(pk=dedicated.tenant.pk).update(status="provisioning")
    ProvisioningRun.objects.create(tenant=dedicated.tenant, state="running", backend="local")
    ProvisioningRun.objects.create(tenant=suspended.tenant, state="failed", backend="local")  # waits for staff
    pool = PooledSchema.objects.count()
    staff_browser.get("/console/")

    # When staff open the overview
    with django_assert_num_queries(PAGE_QUERIES):
        html = staff_browser.get(PAGE).content.decode()

    # Then: six stores are open (the suspended and the dedicated one being built are not), MRR adds the
    # running subscriptions of each currency apart, and the pool and the one run in flight are shown
    assert 'id="fleet-active-stores">6<' in html
    # 9.00 + 7.50 (a twelfth of 90.00 a year) + 9.00 past due + 9.00 of the suspended store (still billed)
    assert 'id="mrr-GBP">£34.50<' in html
    assert 'id="mrr-EUR">€9.00<' in html
    assert f'id="fleet-pool-size">{pool}<' in html
    assert 'id="fleet-provisioning-in-flight">1<' in html


def test_a_platform_without_paying_stores_shows_no_mrr(staff_browser):
    html = staff_browser.get(PAGE).content.decode()

    assert 'id="fleet-active-stores">0<' in html and 'id="mrr-none">none<' in html
    assert 'id="fleet-provisioning-in-flight">0<' in html
