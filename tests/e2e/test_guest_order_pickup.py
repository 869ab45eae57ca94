"""A guest buys a loaf for pickup in a real browser (cart, checkout, local payment, confirmation), and
the merchant, in the store admin in a browser of their own, marks the order paid and then ready for
pickup: the buyer's page follows, and the buyer is mailed at each step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from config.celery import app
from storefront.catalog.models import Product
from storefront.orders.models import Order
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD
from tests.e2e.conftest import merchant_opens_order


@contextmanager
def tasks_run_in_the_server() -> Iterator[None]:
    """The buyer's mails are sent by the live server's thread as each step commits (locmem backend)."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def test_a_guest_orders_for_pickup_and_the_merchant_marks_it_paid_then_ready(
    platform, page, browser, make_store, mailoutbox
):
    store = make_store(store_name="Hebden Bakery", subdomain="hebden-orders", email="rosa@example.com")
    connection.set_tenant(store.tenant)
    loaf = Product.objects.create(title="Sourdough loaf", sku="B-1", price=450, stock=3, status="active")
    connection.set_schema_to_public()
    store_url = platform.replace("//localhost", "//hebden-orders.localhost")

    with tasks_run_in_the_server():
        # A guest puts two loaves in the cart from the product page
        page.goto(f"{store_url}/products/{loaf.pk}/")
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Add to cart").click()
        page.wait_for_url(re.compile(r".*/cart/$"))
        assert page.locator(".cart-total").inner_text() == "£9.00"
        assert page.locator(".cart-count").inner_text() == "(2)"

        # ...and checks out: pickup and local payment are the defaults
        page.get_by_role("link", name="Checkout").click()
        page.wait_for_url(re.compile(r".*/checkout/$"))
        assert page.get_by_label("Collect from the shop").is_checked()
        assert page.get_by_label("Pay on pickup or by bank transfer").is_checked()
        page.get_by_label("Email").fill("ada@example.com")
        page.get_by_label("Name").fill("Ada Lovelace")
        page.get_by_role("button", name="Place order").click()
        page.wait_for_url(re.compile(r".*/orders/\d+/$"))
        number = page.url.rstrip("/").rsplit("/", 1)[1]
        assert page.locator("h1").inner_text() == f"Thank you: order {number}"
        assert page.locator(".order-status").inner_text() == "Status: Placed"
        assert page.locator(".order-total").inner_text() == "£9.00"

        # The merchant, in their own browser, opens the order in the store admin
        merchant = merchant_opens_order(browser, store_url, "rosa@example.com", STRONG_PASSWORD, number)
        assert "Sourdough loaf" in merchant.locator("#content-main").inner_text()

        # ...marks it paid, then ready for pickup
        merchant.get_by_role("button", name="Mark paid").click()
        merchant.locator(".messagelist .success", has_text=f"Order {number} is now paid.").wait_for()
        merchant.get_by_role("button", name="Ready for pickup").click()
        merchant.locator(".messagelist .success", has_text=f"Order {number} is now ready for pickup.").wait_for()
        assert merchant.locator("#order-moves h2").inner_text() == "Status: Ready for pickup"
        merchant.context.close()

    # The buyer's page says so, and a mail went out at each step
    page.reload()
    assert page.locator(".order-status").inner_text() == "Status: Ready for pickup"
    # (after the one the signup sent the owner, to verify their address)
    assert [m.subject for m in mailoutbox[1:]] == [
        f"Order {number} placed",
        f"Order {number}: payment received",
        f"Order {number} is ready for pickup",
    ]
    assert all(m.to == ["ada@example.com"] for m in mailoutbox[1:]) and mailoutbox[0].to == ["rosa@example.com"]
    connection.set_tenant(store.tenant)
    order = Order.objects.get(number=number)
    assert list(order.events.values_list("to_status", "actor")) == [
        ("placed", f"session:{order.session_key}"),
        ("paid", "staff:rosa@example.com"),
        ("ready_for_pickup", "staff:rosa@example.com"),
    ]
    assert Product.objects.values_list("stock", "allocated").get(pk=loaf.pk) == (3, 2)
    connection.set_schema_to_public()
