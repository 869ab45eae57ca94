"""A guest pays by card on a store's pages: checkout offers "Card" only while the store's Stripe account
can charge (pay on pickup stays the default); a card order waits for its payment on its order page, which
hands Stripe.js the PaymentIntent's client secret and the store's account for the session that placed it
only, and follows the verified webhook to paid or cancelled. Through the real `stripe` SDK against the fake
Stripe server (the browser's side is tests/e2e/test_card_order.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from onboarding.services import SignupResult
from storefront.catalog.models import Product
from storefront.orders.models import Order, StockReservation
from storefront.payments.models import StripeAccount
from tenants.db_backend import connection
from tests.conftest import store_api
from tests.fakes.stripe_server import FakeStripe
from tests.storefront.payments.conftest import connected_store, deliver, stripe_fake
from tests.storefront.shop.test_guest_checkout import add_product, add_to_cart, checkout_form, guest, html

__all__ = ["stripe_fake"]
pytestmark = pytest.mark.django_db
CARD_OPTION = re.compile(r'<input type="radio" name="payment" value="stripe"[^>]*>\s+Card</label>')
LOCAL_CHECKED = re.compile(r'<input type="radio" name="payment" value="local"[^>]*checked>')


@pytest.fixture
def card_store(make_store: Any, stripe_fake: FakeStripe) -> Iterator[SignupResult]:
    """A store connected to the fake Stripe; the test's own ORM calls run in its schema."""
    store = connected_store(make_store, stripe_fake)
    connection.set_tenant(store.tenant)
    yield store
    connection.set_schema_to_public()


@pytest.fixture
def loaf(card_store: SignupResult) -> Product:
    return add_product("Sourdough loaf", price=450, stock=5)


def check_out_by_card(client: Client) -> Any:
    return client.post("/checkout/", {**checkout_form(client), "payment": "stripe"})


def secret_of(order: Order, fake: FakeStripe) -> str:
    return str(fake.get("payment_intent", order.payment_reference)["client_secret"])


# --- Offering cards ---------------------------------------------------------------------------------


def test_card_is_offered_only_once_the_stores_stripe_account_can_charge(make_store, stripe_fake, settings):
    store = make_store()
    connection.set_tenant(store.tenant)
    loaf = add_product("Sourdough loaf")
    client = guest(store)
    add_to_cart(client, loaf, 1)
    owner = store_api(store.tenant.slug, store.token)

    never_connected = html(client.get("/checkout/"))
    refused = check_out_by_card(client)
    account = owner.post("/api/v1/payments/stripe/account").json()["account"]
    connection.set_tenant(store.tenant)
    onboarding_unfinished = html(client.get("/checkout/"))
    deliver(stripe_fake, stripe_fake.complete_onboarding(account))
    connection.set_tenant(store.tenant)
    connected = html(client.get("/checkout/"))
    settings.STRIPE_SECRET_KEY = ""
    platform_without_stripe = html(client.get("/checkout/"))

    for page in (never_connected, onboarding_unfinished, platform_without_stripe):
        assert not CARD_OPTION.search(page) and LOCAL_CHECKED.search(page)
    assert refused.status_code == 400 and "Select a valid choice. stripe is not one of the" in html(refused)
    assert CARD_OPTION.search(connected) and LOCAL_CHECKED.search(connected)  # local stays the default
    assert not Order.objects.exists() and not StockReservation.objects.exists()
    assert stripe_fake.table("payment_intent") == {}
    connection.set_schema_to_public()


# --- The payment page -------------------------------------------------------------------------------


def test_choosing_card_places_an_order_awaiting_payment_and_only_its_session_gets_the_payment_page(
    card_store, loaf, stripe_fake
):
    client, stranger = guest(card_store), guest(card_store)
    add_to_cart(client, loaf, 2)
    add_to_cart(stranger, add_product("Damson jam"), 1)

    placed = check_out_by_card(client)
    order = Order.objects.get()
    secret = secret_of(order, stripe_fake)
    page = client.get(placed["Location"])
    status = client.get(f"/orders/{order.number}/status/")
    strangers_page = stranger.get(f"/orders/{order.number}/")
    strangers_status = stranger.get(f"/orders/{order.number}/status/")
    cookieless = guest(card_store).get(f"/orders/{order.number}/")

    assert (placed.status_code, placed["Location"]) == (303, f"/orders/{order.number}/")
    assert (order.status, order.payment_provider, order.total) == ("pending_payment", "stripe", 900)
    assert StockReservation.objects.filter(order=order).count() == 1
    intent = stripe_fake.get("payment_intent", order.payment_reference)
    account = StripeAccount.objects.get().account_id
    assert (intent["amount"], intent["_account"], intent["status"]) == (900, account, "requires_payment_method")
    body = html(page)
    assert page.status_code == 200 and f"<h1>Pay for order {order.number}</h1>" in body
    assert "Status: <strong>Awaiting payment</strong>" in body and "Pay £9.00" in body
    assert f'<script src="{stripe_fake.base_url}/v3/stripe.js" defer></script>' in body
    assert '<script src="/static/storefront/card_payment.js" defer></script>' in body
    config = re.search(r'<script id="card-payment-config" type="application/json">([^<]+)</script>', body)
    assert config is not None and json.loads(config.group(1)) == {
        "publishableKey": "pk_test_fake",
        "account": account,
        "clientSecret": secret,
        "returnUrl": f"http://{card_store.tenant.slug}.localhost/orders/{order.number}/",
    }
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    assert f'hx-get="/orders/{order.number}/status/" hx-trigger="every 2s"' in body
    assert status.status_code == 200 and "HX-Refresh" not in status
    assert "Status: <strong>Awaiting payment</strong>" in html(status)
    for response in (strangers_page, strangers_status, cookieless):
        assert response.status_code == 404 and secret not in html(response) and account not in html(response)
    assert secret not in placed["Location"]


def test_back_from_stripe_the_secret_leaves_the_url_and_the_page_waits_for_the_bank(card_store, loaf, stripe_fake):
    client = guest(card_store)
    add_to_cart(client, loaf, 1)
    number = check_out_by_card(client)["Location"].split("/")[2]
    order = Order.objects.get()
    secret = secret_of(order, stripe_fake)

    # Stripe's redirect back from a payment method that leaves the page
    back = client.get(
        f"/orders/{number}/",
        {
            "payment_intent": order.payment_reference,
            "payment_intent_client_secret": secret,
            "redirect_status": "succeeded",
        },
    )
    waiting = client.get(back["Location"])

    assert (back.status_code, back["Location"]) == (303, f"/orders/{number}/?redirect_status=succeeded")
    assert waiting.status_code == 200 and "your bank is confirming the payment" in html(waiting)
    assert secret not in html(waiting) and "stripe.js" not in html(waiting)  # no second payment meanwhile
    assert "Status: <strong>Awaiting payment</strong>" in html(waiting)


# --- Following the webhook --------------------------------------------------------------------------


def test_a_declined_card_cancels_the_order_and_its_page_says_so(card_store, loaf, stripe_fake):
    client = guest(card_store)
    add_to_cart(client, loaf, 2)
    number = check_out_by_card(client)["Location"].split("/")[2]
    order = Order.objects.get()
    secret = secret_of(order, stripe_fake)

    outcome = deliver(stripe_fake, stripe_fake.pay(order.payment_reference, succeed=False)).json()["outcome"]
    connection.set_tenant(card_store.tenant)
    status = client.get(f"/orders/{number}/status/")
    page = client.get(f"/orders/{number}/")

    assert outcome == f"order {number} cancelled (card payment failed: Your card was declined.)"
    assert status["HX-Refresh"] == "true" and "Status: <strong>Cancelled</strong>" in html(status)
    assert "hx-get" not in html(status)  # the polling stops
    body = html(page)
    assert f"<h1>Order {number} is cancelled</h1>" in body and "Status: <strong>Cancelled</strong>" in body
    assert "The card payment did not go through, so this order is cancelled." in body
    assert secret not in body and "stripe.js" not in body and "hx-get" not in body
    assert number not in client.session.get("shop_card_payments", {})  # the session forgot the secret
    assert Order.objects.get().status == "cancelled" and not StockReservation.objects.exists()
    assert Product.objects.get(pk=loaf.pk).allocated == 0


def test_a_paid_card_order_page_says_paid(card_store, loaf, stripe_fake):
    client = guest(card_store)
    add_to_cart(client, loaf, 1)
    number = check_out_by_card(client)["Location"].split("/")[2]
    order = Order.objects.get()

    deliver(stripe_fake, stripe_fake.pay(order.payment_reference))
    connection.set_tenant(card_store.tenant)
    status = client.get(f"/orders/{number}/status/")
    page = html(client.get(f"/orders/{number}/"))

    assert status["HX-Refresh"] == "true" and "Status: <strong>Paid</strong>" in html(status)
    assert f"<h1>Thank you: order {number}</h1>" in page and "Status: <strong>Paid</strong>" in page
    assert "Paid by card: thank you." in page and "card-payment-config" not in page
    assert Order.objects.get().status == "paid" and Product.objects.get(pk=loaf.pk).allocated == 1


def test_stripe_down_at_checkout_cancels_the_order_and_says_nothing_was_charged(card_store, loaf, stripe_fake):
    client = guest(card_store)
    add_to_cart(client, loaf, 1)
    stripe_fake.fail_next["/v1/payment_intents"] = 10  # past the SDK's retries

    response = check_out_by_card(client)

    assert response.status_code == 502
    assert "Card payments are not working just now, so this order was cancelled and nothing was charged." in html(
        response
    )
    assert Order.objects.get().status == "cancelled" and not StockReservation.objects.exists()
    assert "shop_placed_orders" not in client.session and "shop_card_payments" not in client.session
