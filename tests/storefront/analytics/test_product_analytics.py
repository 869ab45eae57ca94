"""Product analytics as a merchant sees it: buyers' views of product pages and adds to cart are counted
without a database write on the page's request, rolled up per minute (a visitor once however many views)
and per day with the day's paid orders, the same whatever the rollup is re-run, and shown in the store's
admin to its staff only, never with another store's products."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection as django_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from onboarding.services import SignupResult
from storefront.analytics import recording, services
from storefront.analytics.models import ProductDay, ProductMinute
from storefront.analytics.tasks import roll_up_everywhere
from storefront.catalog.models import Product
from storefront.orders.models import Order
from storefront.orders.services import transition_order
from tests.conftest import STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser, admin_browser
from tests.storefront.orders.conftest import sign_up_buyer
from tests.storefront.shop.test_guest_checkout import add_product, add_to_cart, checkout_form

pytestmark = pytest.mark.django_db
PAGE = "/admin/analytics/productday/"


def visitor(store: SignupResult, address: str = "203.0.113.7", agent: str = "Firefox") -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug), REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def view(client: Client, product: Product, times: int = 1) -> None:
    for _ in range(times):
        assert client.get(f"/products/{product.pk}/").status_code == 200


def roll_up() -> int:
    """The beat's rollup as it runs once the current minute has closed."""
    return services.roll_up_product_events(now=timezone.now() + timedelta(minutes=2))


def minutes() -> list[tuple[str, int, int, int]]:
    return [
        (row.product.title, row.views, row.unique_viewers, row.add_to_carts)
        for row in ProductMinute.objects.select_related("product").order_by("product__title")
    ]


def days() -> list[tuple[str, int, int, int, int, int]]:
    return [
        (row.product.title, row.views, row.unique_viewers, row.add_to_carts, row.orders, row.units)
        for row in ProductDay.objects.select_related("product").order_by("product__title")
    ]


@pytest.fixture
def loaf(in_store: SignupResult) -> Product:
    return add_product("Sourdough loaf", price=450, stock=10)


@pytest.fixture
def rye(in_store: SignupResult) -> Product:
    return add_product("Dark rye", price=520, stock=10)


def test_views_and_adds_to_cart_are_counted_with_each_visitor_once_a_minute(in_store, loaf, rye):
    # Given one visitor viewing the loaf four times and adding it to the cart, another viewing it once,
    # and a third (same address, another browser) viewing the rye
    ada, bob, cy = visitor(in_store), visitor(in_store, "198.51.100.2"), visitor(in_store, agent="Chromium")
    view(ada, loaf, 4)
    view(bob, loaf)
    view(cy, rye)
    assert add_to_cart(ada, loaf, 2).status_code == 303

    # When the counts are pushed, nothing is in the database yet; then the rollup runs
    recording.push_local_events()
    assert not ProductMinute.objects.exists() and not ProductDay.objects.exists()
    assert roll_up() == 1

    # Then the minute and the day show 5 views of the loaf by 2 visitors and 1 add to cart
    assert minutes() == [("Dark rye", 1, 1, 0), ("Sourdough loaf", 5, 2, 1)]
    assert days() == [("Dark rye", 1, 1, 0, 0, 0), ("Sourdough loaf", 5, 2, 1, 0, 0)]


def test_a_rollup_run_again_changes_nothing(in_store, loaf):
    view(visitor(in_store), loaf, 3)
    view(visitor(in_store, "198.51.100.2"), loaf)
    roll_up()
    first = (minutes(), days())

    # Run again as it is, and with the minute listed again as a late push would
    assert roll_up() == 0
    schema = django_connection.schema_name
    minute = int(ProductMinute.objects.get().minute.timestamp())
    recording.client().sadd(recording.minutes_key(schema), minute)
    assert roll_up() == 1

    assert (minutes(), days()) == first == ([("Sourdough loaf", 4, 2, 0)], [("Sourdough loaf", 4, 2, 0, 0, 0)])


def test_more_views_after_a_rollup_are_added_by_the_next(in_store, loaf):
    view(visitor(in_store), loaf, 2)
    roll_up()
    view(visitor(in_store), loaf, 3)
    roll_up()
    assert days() == [("Sourdough loaf", 5, 1, 0, 0, 0)]


def test_the_product_page_and_the_cart_write_nothing_to_the_database_for_analytics(in_store, loaf):
    guest = visitor(in_store)
    with CaptureQueriesContext(django_connection) as page:
        view(guest, loaf)
    with CaptureQueriesContext(django_connection) as cart:
        add_to_cart(guest, loaf)

    page_sql = [query["sql"] for query in page.captured_queries]
    assert page_sql and not [sql for sql in page_sql if sql.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert not [query for query in page_sql + [q["sql"] for q in cart.captured_queries] if "analytics_" in query]
    recording.push_local_events()
    assert not ProductMinute.objects.exists() and not ProductDay.objects.exists()


def test_orders_count_once_paid_with_their_units(in_store, loaf):
    guest = visitor(in_store)
    view(guest, loaf)
    add_to_cart(guest, loaf, 2)
    assert guest.post("/checkout/", checkout_form(guest)).status_code == 303
    order = Order.objects.get()

    roll_up()
    assert days() == [("Sourdough loaf", 1, 1, 1, 0, 0)]  # placed, not paid yet: not a sale

    transition_order(order.pk, Order.Status.PAID, actor="test")
    roll_up()
    assert days() == [("Sourdough loaf", 1, 1, 1, 1, 2)]


def page_of(client: Client) -> Any:
    return client.get(PAGE)


def test_the_owner_sees_the_chart_and_the_top_products_with_their_conversion(in_store, loaf, rye):
    for n in range(4):
        view(visitor(in_store, f"198.51.100.{n}"), loaf)
    guest = visitor(in_store)
    view(guest, rye, 2)
    add_to_cart(guest, rye)
    assert guest.post("/checkout/", checkout_form(guest)).status_code == 303
    transition_order(Order.objects.get().pk, Order.Status.PAID, actor="test")
    roll_up()

    response = page_of(admin_browser(in_store))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="analytics-chart"' in html
    assert html.count('<rect class="views"') == 30 and '<polyline class="orders"' in html
    assert "6 views, 1 orders" in html
    # Most viewed first; the rye converted its one viewer, the loaf none of its four
    assert html.index("Sourdough loaf") < html.index("Dark rye")
    assert "<td>Dark rye</td><td>2</td><td>1</td><td>1</td><td>1</td><td>1</td><td>100%</td>" in html
    assert "<td>Sourdough loaf</td><td>4</td><td>4</td><td>0</td><td>0</td><td>0</td><td>0%</td>" in html


@pytest.fixture
def buyer(root_api: Any) -> dict[str, Any]:
    """A marketplace buyer, signed up before the test moves into the store's schema."""
    return {**sign_up_buyer(root_api, "ada.buyer@example.com"), "email": "ada.buyer@example.com"}


def test_anonymous_visitors_and_buyers_are_refused(buyer, in_store, loaf):
    view(visitor(in_store), loaf)
    roll_up()
    anonymous = visitor(in_store)
    signed_in_buyer = visitor(in_store, "198.51.100.9")
    signed_in_buyer.post("/admin/login/", {"username": buyer["email"], "password": STRONG_PASSWORD})

    for client in (anonymous, signed_in_buyer):
        response = page_of(client)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert "Sourdough loaf" not in response.content.decode()


@pytest.fixture
def other(make_store: Any) -> SignupResult:
    """Another store, signed up before the test moves into the first one's schema."""
    return make_store()


def test_another_stores_views_never_appear(other, in_store, loaf):
    with tenant_context(other.tenant):
        pottery_mug = add_product("Pottery mug", stock=3)
        view(visitor(other), pottery_mug, 3)
        roll_up()
        assert days() == [("Pottery mug", 3, 1, 0, 0, 0)]
    view(visitor(in_store), loaf)
    roll_up()

    assert days() == [("Sourdough loaf", 1, 1, 0, 0, 0)]
    html = page_of(admin_browser(in_store)).content.decode()
    assert "Sourdough loaf" in html and "Pottery mug" not in html


def test_the_beat_task_queues_the_rollup_only_for_stores_with_events(other, in_store, loaf, eager_tasks):
    view(visitor(in_store), loaf)
    recording.push_local_events()
    django_connection.set_schema_to_public()

    assert roll_up_everywhere() == 1  # this store, not the other one (no events)
