"""A web worker killed in the middle of a card checkout loses no payment state, at the worst moment: Stripe
made the PaymentIntent but its answer never reached the app (no reference saved). The order is committed
with its units reserved; the buyer's retry with the same Idempotency-Key finishes starting the SAME
payment, which then pays the order; a buyer who never comes back has the order cancelled when the
reservation expires, the units back on sale and the orphan PaymentIntent cancelled at Stripe.
The real app under gunicorn against the fake Stripe, killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from billing.stripe_gateway.client import stripe_client
from storefront.catalog.models import Product
from storefront.orders import services as orders
from storefront.orders.models import CartItem, Order, StockReservation
from tests.conftest import wait_for
from tests.fakes.stripe_server import FakeStripe
from tests.storefront.orders.conftest import add_product, fill_cart, shop
from tests.storefront.payments.conftest import connected_store, deliver
from tests.web_server import Server, app_server, own_database_url, request

CARD = {"fulfilment": "pickup", "payment": "stripe"}
KEY = {"Idempotency-Key": "card-retry-me"}
PAYMENT_INTENTS = "/v1/payment_intents"


@dataclass(frozen=True)
class KilledCheckout:
    web: Server
    host: str
    token: str


def _stripe_env(fake: FakeStripe) -> dict[str, str]:
    """The app server's settings pointing at the fake, as the test process's are (the stripe_fake fixture)."""
    return {
        "STRIPE_SECRET_KEY": fake.api_key,
        "STRIPE_API_BASE": fake.base_url,
        "STRIPE_PUBLISHABLE_KEY": fake.publishable_key,
        "STRIPE_CONNECT_WEBHOOK_SECRET": fake.webhook_secret,
        "STRIPE_JS_URL": f"{fake.base_url}/v3/stripe.js",
    }


def _intents(fake: FakeStripe) -> list[dict[str, Any]]:
    with fake.lock:
        return list(fake.table("payment_intent").values())


@contextmanager
def card_checkout_killed_after_stripe_acted(
    store: Any, buyer: dict[str, Any], fake: FakeStripe, tmp_path: Any
) -> Iterator[KilledCheckout]:
    """A buyer's card checkout whose gunicorn worker is SIGKILLed once Stripe has made the PaymentIntent
    (and kept its answer for the key) but before that answer reached the app; the server is kept up."""
    host = f"{store.tenant.slug}.localhost"
    env = _stripe_env(fake)
    with app_server(
        "card", own_database_url(), tmp_path, 0, workers=1, threads=2, behind_pooler=False, env_overrides=env
    ) as web:
        answers: list[object] = []

        def checkout() -> None:
            try:
                answers.append(request(web.port, "POST", host, "/api/v1/checkout", buyer["token"], CARD, headers=KEY))
            except OSError as error:
                answers.append(error)

        held = threading.Event()
        fake.hold_next[PAYMENT_INTENTS] = held
        first = threading.Thread(target=checkout)
        first.start()
        try:
            wait_for(lambda: _intents(fake), seconds=60, what="Stripe to make the PaymentIntent")
            (worker,) = web.worker_pids()
            os.kill(worker, signal.SIGKILL)
            first.join(timeout=30)
        finally:
            held.set()  # the fake answers a dead socket
        assert answers and isinstance(answers[0], OSError)  # the buyer got no answer
        yield KilledCheckout(web=web, host=host, token=buyer["token"])


def _order_now(store: Any, in_store_of: Any) -> tuple[str, str, list[tuple[int, int]], int]:
    """The order's status and saved payment reference, the units it reserves, its product's allocation."""
    with in_store_of(store):
        order = Order.objects.get()
        reserved = list(StockReservation.objects.values_list("product_id", "quantity"))
        return order.status, order.payment_reference, reserved, Product.objects.get().allocated


def test_the_fake_replays_an_idempotency_key_as_stripe_does(stripe_fake):
    """What the retry relies on: the same key and parameters answer the same PaymentIntent; the same key
    with other parameters is refused (Stripe's `idempotency_error`), and nothing more is made."""
    account = stripe_fake.create_account({})["id"]
    stripe_fake.complete_onboarding(account)
    params: dict[str, Any] = {"amount": 500, "currency": "gbp", "metadata": {"order_number": "000001"}}
    options: Any = {"stripe_account": account, "idempotency_key": "lb-shop-000001-pi"}

    first = stripe_client().v1.payment_intents.create(params=params, options=options)
    again = stripe_client().v1.payment_intents.create(params=params, options=options)
    with pytest.raises(stripe.IdempotencyError):
        stripe_client().v1.payment_intents.create(params={**params, "amount": 600}, options=options)

    assert (again.id, again.client_secret) == (first.id, first.client_secret)
    assert list(stripe_fake.table("payment_intent")) == [first.id]


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy")
def test_a_worker_killed_after_stripe_made_the_intent_loses_nothing_and_the_retry_pays_the_same_intent(
    make_store, buyer, stripe_fake, in_store_of, tmp_path
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=3, price=1200)
    fill_cart(shop(store, buyer), (loaf, 2))

    with card_checkout_killed_after_stripe_acted(store, buyer, stripe_fake, tmp_path) as killed:
        # Then the order was committed, its units reserved and the cart emptied; only the reference is missing
        assert _order_now(store, in_store_of) == ("pending_payment", "", [(loaf, 2)], 0)
        with in_store_of(store):
            assert not CartItem.objects.exists()
            order_id = Order.objects.get().pk

        # When the buyer retries with the same key (twice)
        wait_for(killed.web.worker_pids, seconds=30, what="gunicorn to replace its worker")
        retried = request(killed.web.port, "POST", killed.host, "/api/v1/checkout", killed.token, CARD, headers=KEY)
        again = request(killed.web.port, "POST", killed.host, "/api/v1/checkout", killed.token, CARD, headers=KEY)

    # Then both answer the same payment: the one PaymentIntent Stripe made for the order
    status, body = retried
    assert status == 201, body
    assert again == retried
    intents = _intents(stripe_fake)
    assert [intent["id"] for intent in intents] == [body["payment"]["payment_intent"]], "one intent per order"
    intent = intents[0]
    assert intent["metadata"]["localbazaar_order"] == str(order_id) and intent["amount"] == 2400
    payment = body["payment"]
    assert (payment["payment_intent"], payment["client_secret"]) == (intent["id"], intent["client_secret"])
    assert body["order"]["id"] == order_id and body["order"]["status"] == "pending_payment"
    assert _order_now(store, in_store_of) == ("pending_payment", intent["id"], [(loaf, 2)], 0)

    # And paying it makes the order paid: its units allocated, the reservation gone
    outcome = deliver(stripe_fake, stripe_fake.pay(intent["id"])).json()["outcome"]

    assert outcome == f"order {body['order']['number']} paid"
    assert _order_now(store, in_store_of) == ("paid", intent["id"], [], 2)


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy")
def test_a_killed_checkout_never_retried_is_cancelled_at_expiry_with_its_orphan_intent(
    make_store, buyer, make_buyer, stripe_fake, in_store_of, tmp_path
):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=2)
    fill_cart(shop(store, buyer), (loaf, 2))
    with card_checkout_killed_after_stripe_acted(store, buyer, stripe_fake, tmp_path):
        pass
    (orphan,) = _intents(stripe_fake)
    assert _order_now(store, in_store_of) == ("pending_payment", "", [(loaf, 2)], 0)

    # When the buyer never comes back and the reservation expires
    later = timezone.now() + timedelta(minutes=settings.CHECKOUT_RESERVATION_MINUTES, seconds=1)
    with in_store_of(store):
        released = orders.release_expired_reservations(now=later)

    # Then the order is cancelled, its units are back on sale, and the orphan intent can no longer be paid
    assert released == 1
    assert _order_now(store, in_store_of) == ("cancelled", "", [], 0)
    assert stripe_fake.get("payment_intent", orphan["id"])["status"] == "canceled"
    # A late retry of the killed checkout says so, and starts no payment for the cancelled order
    late = shop(store, buyer).post("/api/v1/checkout", CARD, format="json", HTTP_IDEMPOTENCY_KEY=KEY["Idempotency-Key"])
    assert late.json()["order"]["status"] == "cancelled" and late.json()["payment"]["status"] == "not_started"
    assert [intent["id"] for intent in _intents(stripe_fake)] == [orphan["id"]]
    other = shop(store, make_buyer())
    fill_cart(other, (loaf, 2))
    assert other.post("/api/v1/checkout", {"fulfilment": "pickup"}, format="json").status_code == 201
