"""A guest pays by card in a real browser: the store is connected to the fake Stripe (the owner's onboarding
over the API, finished on Stripe, its webhook delivered), the guest checks out for pickup with "Card", pays
with a test card in the fake's Stripe.js on the order page, and lands back on it paid -- after the fake
delivered the signed webhook to the live server's root host. The merchant then marks it ready for pickup in
the store admin. A declined card shows Stripe's message, and the page follows the order to cancelled."""

from __future__ import annotations

import re
from typing import Any

from storefront.catalog.models import Product
from storefront.orders.models import Order
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD
from tests.e2e.conftest import merchant_opens_order
from tests.fakes.stripe_server import FakeStripe
from tests.storefront.payments.conftest import connected_store, stripe_fake

__all__ = ["stripe_fake"]
GOOD_CARD, DECLINED_CARD = "4242 4242 4242 4242", "4000000000000002"


def card_store(platform: str, make_store: Any, fake: FakeStripe, subdomain: str) -> tuple[Any, str, Product]:
    """A store taking cards through the fake Stripe, which delivers its events to the live server."""
    fake.webhook_url = f"{platform}/api/v1/payments/stripe/webhook"
    store = connected_store(
        make_store, fake, store_name="Hebden Bakery", subdomain=subdomain, email=f"rosa@{subdomain}.example.com"
    )
    connection.set_tenant(store.tenant)
    loaf = Product.objects.create(title="Sourdough loaf", sku="B-1", price=450, stock=3, status="active")
    connection.set_schema_to_public()
    return store, platform.replace("//localhost", f"//{subdomain}.localhost"), loaf


def order_by_card(page: Any, store_url: str, loaf: Product) -> str:
    """Two loaves for pickup, paid by card: the order page's number."""
    page.goto(f"{store_url}/products/{loaf.pk}/")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r".*/cart/$"))
    page.get_by_role("link", name="Checkout").click()
    page.wait_for_url(re.compile(r".*/checkout/$"))
    assert page.get_by_label("Collect from the shop").is_checked()
    assert page.get_by_label("Pay on pickup or by bank transfer").is_checked()  # still the default
    page.get_by_label("Card", exact=True).check()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    number: str = page.url.rstrip("/").rsplit("/", 1)[1]
    assert page.locator("h1").inner_text() == f"Pay for order {number}"
    assert page.locator(".order-status").inner_text() == "Status: Awaiting payment"
    return number


def test_a_guest_pays_by_card_and_the_merchant_marks_the_order_ready(platform, page, browser, make_store, stripe_fake):
    store, store_url, loaf = card_store(platform, make_store, stripe_fake, "hebden-cards")

    # A guest orders two loaves for pickup, by card, and pays on the order page with Stripe's test card
    number = order_by_card(page, store_url, loaf)
    page.get_by_label("Card number").fill(GOOD_CARD)
    page.get_by_role("button", name="Pay £9.00").click()

    # ...and lands back on it: the webhook, delivered meanwhile, has made the order paid
    page.wait_for_url(re.compile(rf".*/orders/{number}/\?redirect_status=succeeded$"))
    assert page.locator(".order-status").inner_text() == "Status: Paid"
    assert page.locator("h1").inner_text() == f"Thank you: order {number}"
    assert page.get_by_text("Paid by card: thank you.").is_visible()
    assert [status for _, status in stripe_fake.webhook_deliveries] == [200]

    # The merchant, in their own browser, marks it ready for pickup in the store admin
    merchant = merchant_opens_order(browser, store_url, "rosa@hebden-cards.example.com", STRONG_PASSWORD, number)
    assert merchant.locator("#order-moves h2").inner_text() == "Status: Paid"
    merchant.get_by_role("button", name="Ready for pickup").click()
    merchant.locator(".messagelist .success", has_text=f"Order {number} is now ready for pickup.").wait_for()
    merchant.context.close()

    page.goto(f"{store_url}/orders/{number}/")
    assert page.locator(".order-status").inner_text() == "Status: Ready for pickup"
    connection.set_tenant(store.tenant)
    order = Order.objects.get(number=number)
    assert list(order.events.values_list("to_status", "actor")) == [
        ("pending_payment", f"session:{order.session_key}"),
        ("paid", "stripe"),
        ("ready_for_pickup", "staff:rosa@hebden-cards.example.com"),
    ]
    assert stripe_fake.get("payment_intent", order.payment_reference)["status"] == "succeeded"
    assert Product.objects.values_list("stock", "allocated").get(pk=loaf.pk) == (3, 2)
    connection.set_schema_to_public()


def test_a_declined_card_shows_stripes_message_and_the_page_follows_the_cancelled_order(
    platform, page, make_store, stripe_fake
):
    _, store_url, loaf = card_store(platform, make_store, stripe_fake, "hebden-declines")
    number = order_by_card(page, store_url, loaf)
    # The status poll waits until the message was seen, so the reload it brings cannot race it.
    seen = {"message": False}
    page.route(
        re.compile(rf".*/orders/{number}/status/$"),
        lambda route: route.continue_() if seen["message"] else route.fulfill(status=204),
    )

    page.get_by_label("Card number").fill(DECLINED_CARD)
    page.get_by_role("button", name="Pay £9.00").click()

    page.locator("#card-errors", has_text="Your card was declined.").wait_for()
    assert page.get_by_role("button", name="Pay £9.00").is_enabled()
    seen["message"] = True
    page.locator("h1", has_text=f"Order {number} is cancelled").wait_for()  # reloaded by the poll
    assert page.locator(".order-status").inner_text() == "Status: Cancelled"
    assert page.get_by_text("The card payment did not go through, so this order is cancelled.").is_visible()
    assert page.locator("#card-payment").count() == 0
    assert [status for _, status in stripe_fake.webhook_deliveries] == [200]
