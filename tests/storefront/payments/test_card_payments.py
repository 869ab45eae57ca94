"""Buyers paying stores by card: the store's owner connects a Stripe Express account, a checkout makes
a PaymentIntent on it (direct charge, the plan's application fee), and the order follows Stripe's
verified, deduplicated Connect events in any order -- paid, failed (units back on sale), refunded.
Through the real `stripe` SDK against the fake Stripe server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from storefront.catalog.models import Product
from storefront.orders import services as orders
from storefront.orders.models import Order, StockReservation
from storefront.payments.models import PaymentEvent, StripeAccount
from tests.conftest import store_api
from tests.storefront.conftest import admin_browser
from tests.storefront.orders.conftest import add_product, fill_cart, shop
from tests.storefront.payments.conftest import connected_store, deliver

pytestmark = pytest.mark.django_db
CARD = {"fulfilment": "pickup", "payment": "stripe"}


def card_checkout(store: Any, buyer: dict[str, Any], product: int, quantity: int = 1) -> dict[str, Any]:
    client = shop(store, buyer)
    fill_cart(client, (product, quantity))
    response = client.post("/api/v1/checkout", CARD, format="json", HTTP_IDEMPOTENCY_KEY=f"card-{product}")
    assert response.status_code == 201, response.content
    return dict(response.json())


def order_state(store: Any, in_store_of: Any) -> tuple[str, int, int, int]:
    with in_store_of(store):
        order = Order.objects.get()
        product = Product.objects.get()
        return order.status, product.allocated, StockReservation.objects.count(), product.stock


def test_an_owner_connects_stripe_and_sees_the_account_status(make_store, stripe_fake, in_store_of):
    store = make_store()
    owner = store_api(store.tenant.slug, store.token)

    before = owner.get("/api/v1/payments/stripe/account").json()
    first = owner.post("/api/v1/payments/stripe/account").json()
    again = owner.post("/api/v1/payments/stripe/account").json()  # a fresh link, the same account
    midway = owner.get("/api/v1/payments/stripe/account").json()
    deliver(stripe_fake, stripe_fake.complete_onboarding(first["account"]))
    after = owner.get("/api/v1/payments/stripe/account").json()

    assert before == {"account": None, "details_submitted": False, "charges_enabled": False, "payouts_enabled": False}
    assert again["account"] == first["account"] and len(stripe_fake.table("account")) == 1
    assert (midway["details_submitted"], midway["charges_enabled"]) == (False, False)
    assert (after["details_submitted"], after["charges_enabled"], after["payouts_enabled"]) == (True, True, True)
    remote = stripe_fake.get("account", first["account"])
    assert remote["metadata"]["localbazaar_tenant"] == str(store.tenant.pk)


def test_only_the_owner_connects_and_cards_wait_for_a_connected_account(make_store, buyer, stripe_fake, in_store_of):
    store = make_store()
    client = shop(store, buyer)
    fill_cart(client, (add_product(store), 1))

    by_buyer = client.post("/api/v1/payments/stripe/account")
    refused = client.post("/api/v1/checkout", CARD, format="json")

    assert by_buyer.status_code == 401
    assert refused.status_code == 400 and "does not take card payments yet" in refused.json()["payment"][0]
    with in_store_of(store):
        assert not StripeAccount.objects.exists() and not Order.objects.exists()


def test_a_card_checkout_reserves_the_units_and_the_verified_payment_makes_the_order_paid(
    make_store, buyer, make_buyer, stripe_fake, in_store_of
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=4, price=1000)

    body = card_checkout(store, buyer, loaf, 3)

    payment = body["payment"]
    assert body["order"]["status"] == "pending_payment" and body["order"]["reserved_until"]
    assert (
        payment["client_secret"].startswith(payment["payment_intent"]) and payment["publishable_key"] == "pk_test_fake"
    )
    intent = stripe_fake.get("payment_intent", payment["payment_intent"])
    assert (intent["amount"], intent["currency"], intent["_account"]) == (3000, "gbp", payment["account"])
    assert intent["application_fee_amount"] == 30  # Starter: 1 % of card payments
    assert order_state(store, in_store_of) == ("pending_payment", 0, 1, 4)
    # Meanwhile the reserved units are not sold to anyone else.
    other = shop(store, make_buyer())
    fill_cart(other, (loaf, 2))
    assert other.post("/api/v1/checkout", {"fulfilment": "pickup"}, format="json").status_code == 409

    outcome = deliver(stripe_fake, stripe_fake.pay(payment["payment_intent"])).json()["outcome"]

    assert outcome == f"order {body['order']['number']} paid"
    assert order_state(store, in_store_of) == ("paid", 3, 0, 4)
    assert store_api(store.tenant.slug, store.token).get(f"/api/v1/orders/{body['order']['id']}").json()["history"][
        -1
    ] | {"at": None} == {
        "from": "pending_payment",
        "to": "paid",
        "by": "stripe",
        "reason": f"card payment {payment['payment_intent']}",
        "at": None,
    }


def test_events_are_applied_once_in_any_order_and_forged_ones_are_refused(make_store, buyer, stripe_fake, in_store_of):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=4)
    intent = card_checkout(store, buyer, loaf)["payment"]["payment_intent"]
    failed = stripe_fake.pay(intent, succeed=False)
    succeeded = stripe_fake.pay(intent)  # the buyer tried another card

    forged = deliver(stripe_fake, succeeded, secret="whsec_someone_else")
    late_success_first = deliver(stripe_fake, succeeded).json()["outcome"]
    stale_failure = deliver(stripe_fake, failed).json()["outcome"]
    redelivered = deliver(stripe_fake, succeeded).json()["outcome"]

    assert forged.status_code == 400 and forged.json()["code"] == "bad_signature"
    assert late_success_first.endswith("paid")
    assert stale_failure.endswith("already paid")  # re-fetched: the payment succeeded
    assert redelivered == "duplicate"
    assert order_state(store, in_store_of) == ("paid", 1, 0, 4)
    with in_store_of(store):
        assert PaymentEvent.objects.count() == 3  # onboarding, failure, success: each once


def test_a_failed_payment_cancels_the_order_and_puts_its_units_back_on_sale(
    make_store, buyer, stripe_fake, in_store_of
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=2)
    body = card_checkout(store, buyer, loaf, 2)

    outcome = deliver(stripe_fake, stripe_fake.pay(body["payment"]["payment_intent"], succeed=False)).json()["outcome"]

    assert outcome == f"order {body['order']['number']} cancelled (card payment failed: Your card was declined.)"
    assert order_state(store, in_store_of) == ("cancelled", 0, 0, 2)


def test_an_abandoned_payment_releases_its_units_when_the_reservation_expires(
    make_store, buyer, stripe_fake, in_store_of
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=1)
    card_checkout(store, buyer, loaf)

    with in_store_of(store):
        assert orders.release_expired_reservations(now=timezone.now()) == 0
        released = orders.release_expired_reservations(now=timezone.now() + timedelta(minutes=11))

    assert released == 1
    assert order_state(store, in_store_of) == ("cancelled", 0, 0, 1)


def test_a_payment_that_succeeds_after_its_units_were_sold_is_refunded_not_fulfilled(
    make_store, make_buyer, stripe_fake, in_store_of
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=1)
    late = card_checkout(store, make_buyer(), loaf)
    with in_store_of(store):
        StockReservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # lapsed, not swept
    quick = shop(store, make_buyer())
    fill_cart(quick, (loaf, 1))
    assert quick.post("/api/v1/checkout", {"fulfilment": "pickup"}, format="json").status_code == 201

    outcome = deliver(stripe_fake, stripe_fake.pay(late["payment"]["payment_intent"])).json()["outcome"]

    assert outcome == f"order {late['order']['number']} was cancelled: payment refunded"
    charge = stripe_fake.get("payment_intent", late["payment"]["payment_intent"])["latest_charge"]
    assert stripe_fake.get("charge", charge)["refunded"] is True
    with in_store_of(store):
        assert dict(Order.objects.values_list("number", "status"))[late["order"]["number"]] == "cancelled"
        assert Product.objects.get().allocated == 1  # the quick buyer's unit only


def test_a_merchant_refund_goes_back_to_the_card_and_stripes_event_changes_nothing_more(
    make_store, buyer, stripe_fake, in_store_of
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=3)
    body = card_checkout(store, buyer, loaf, 2)
    deliver(stripe_fake, stripe_fake.pay(body["payment"]["payment_intent"]))
    staff = store_api(store.tenant.slug, store.token)

    refunded = staff.post(f"/api/v1/orders/{body['order']['id']}/transition", {"to": "refunded", "reason": "broken"})

    assert refunded.status_code == 200 and refunded.json()["status"] == "refunded"
    event = stripe_fake.events[-1]
    assert event["type"] == "charge.refunded" and event["data"]["object"]["refunded"] is True
    assert deliver(stripe_fake, event).json()["outcome"] == f"order {body['order']['number']} already refunded"
    assert order_state(store, in_store_of) == ("refunded", 0, 0, 3)


def test_a_refund_made_on_stripes_dashboard_refunds_the_order(make_store, buyer, stripe_fake, in_store_of):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=3)
    body = card_checkout(store, buyer, loaf, 1)
    deliver(stripe_fake, stripe_fake.pay(body["payment"]["payment_intent"]))
    stripe_fake.dispatch(
        "POST", "/v1/refunds", {"payment_intent": body["payment"]["payment_intent"]}, "", body["payment"]["account"]
    )

    outcome = deliver(stripe_fake, stripe_fake.events[-1]).json()["outcome"]

    assert outcome == f"order {body['order']['number']} refunded"
    assert order_state(store, in_store_of) == ("refunded", 0, 0, 3)


def test_stripe_down_at_checkout_cancels_the_order_and_keeps_nothing_reserved(
    make_store, buyer, stripe_fake, in_store_of
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=2)
    client = shop(store, buyer)
    fill_cart(client, (loaf, 1))
    stripe_fake.fail_next["/v1/payment_intents"] = 10  # past the SDK's retries

    response = client.post("/api/v1/checkout", CARD, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert response.status_code == 502 and response.json()["code"] == "payment_failed"
    assert order_state(store, in_store_of) == ("cancelled", 0, 0, 2)


def test_the_owner_connects_stripe_from_the_store_admin(make_store, stripe_fake, in_store_of):
    store = make_store()
    browser = admin_browser(store)

    page = browser.get("/admin/payments/stripeaccount/")
    connect = browser.post("/admin/payments/stripeaccount/connect/")

    assert page.status_code == 200 and b"Connect Stripe to take card payments" in page.content
    assert connect.status_code == 302 and "/connect/onboarding/acct_" in connect["Location"]
    with in_store_of(store):
        account = StripeAccount.objects.get()
    deliver(stripe_fake, stripe_fake.complete_onboarding(account.account_id))
    after = browser.get("/admin/payments/stripeaccount/")
    assert account.account_id.encode() in after.content and b"Continue Stripe onboarding" in after.content
