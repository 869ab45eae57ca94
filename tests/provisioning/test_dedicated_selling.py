"""A dedicated store sells like a shared one. Buyers' accounts live on the control plane, so the store's own
stack asks it who holds a buyer token (cached briefly, never as the platform's); Stripe's Connect events
about the store's account come to the platform, which hands them to the stack, which reads them back from
Stripe and applies them in its own database. Each over HTTP, against a live stack (`serve_dedicated`)."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from provisioning import execution
from provisioning.models import ProvisioningRun
from storefront.marketplace.services import issue_publishing_token
from storefront.payments import forwarding
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, store_api
from tests.provisioning.conftest import dedicated_database
from tests.provisioning.dedicated_stack import serving
from tests.storefront.orders.conftest import fill_cart, sign_up_buyer
from tests.storefront.payments.conftest import deliver, stripe_fake
from tests.web_server import free_port

__all__ = ["stripe_fake"]

OWNER = "potter@example.com"
CHECK = "/api/v1/buyers/token/check"


def live_dedicated_store(staff_api: APIClient, make_store: Any) -> Tenant:
    """`pottery`, provisioned by the local backend (its stack is started by the test with `serving`)."""
    make_store(subdomain="pottery", store_name="Calder Pottery", email=OWNER, tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
    return Tenant.objects.get(slug="pottery")


def owner_api() -> APIClient:
    """The owner, logged in on the store's host (their account is in the stack's database only)."""
    login = store_api("pottery").post(
        "/api/v1/auth/token", {"email": OWNER, "password": STRONG_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    return store_api("pottery", login.json()["token"])


def add_jar(owner: APIClient, stock: int = 3) -> int:
    body = {"title": "Moon jar", "price": 12500, "sku": "POT-MOON", "status": "active", "stock": stock}
    created = owner.post("/api/v1/products", body, format="json")
    assert created.status_code == 201, created.content
    return int(created.json()["id"])


def post_to_stack(upstream: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    """A request straight to the stack's server for the store's hostname; its status."""
    headers = {"Host": "pottery.localhost", "Content-Type": "application/json", **headers}
    request = urllib.request.Request(f"{upstream}{path}", data=body, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.fixture
def control_plane(live_server: Any, monkeypatch: Any) -> str:
    """The platform's root host over HTTP, as the stack reaches it (its MARKETPLACE_API_URL)."""
    monkeypatch.setenv("MARKETPLACE_API_URL", live_server.url)
    return str(live_server.url)


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy", "no_queue", "control_plane")
def test_a_marketplace_buyer_shops_on_a_dedicated_store_and_never_reaches_its_admin(
    staff_api, make_store, root_api, tmp_path
):
    # Given a live dedicated store with a jar for sale, and a buyer who signed up on the control plane
    tenant = live_dedicated_store(staff_api, make_store)
    buyer = sign_up_buyer(root_api)
    with serving("pottery", tmp_path):
        owner = owner_api()
        jar = add_jar(owner)
        shop = store_api("pottery", buyer["token"])

        # When the buyer uses the store's cart with their token, and others try tokens that are not theirs
        empty = shop.get("/api/v1/cart")
        added = shop.post("/api/v1/cart/items", {"product": jar, "quantity": 2}, format="json")
        again = shop.get("/api/v1/cart")
        wrong = store_api("pottery", "lbb_" + "x" * 43).get("/api/v1/cart")
        admin_write = shop.post("/api/v1/products", {"title": "Fake", "price": 1, "sku": "FAKE"}, format="json")
        admin_read = shop.get("/api/v1/payments/stripe/account")
        owner_cart = owner.get("/api/v1/cart")

    # Then the buyer has a cart on the store, kept in its own database under their control-plane id
    assert empty.status_code == 200, empty.content
    assert empty.json()["items"] == []
    assert added.status_code == 201, added.content
    assert [(item["product"], item["quantity"]) for item in again.json()["items"]] == [(jar, 2)]
    with dedicated_database(tenant.database_name) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT buyer_id FROM orders_cart")
        assert cursor.fetchall() == [(buyer["buyer"]["id"],)]
        cursor.execute("SELECT count(*) FROM buyers_buyer")
        assert cursor.fetchone() == (0,)  # the buyer's account stayed on the control plane
        cursor.execute("SELECT sku FROM catalog_product")
        assert cursor.fetchall() == [("POT-MOON",)]  # the buyer's product was refused
    # And a token nobody holds is refused, a buyer's never passes as store staff, nor the owner's as a buyer
    assert wrong.status_code == 401
    assert admin_write.status_code in (401, 403) and admin_read.status_code in (401, 403)
    assert owner_cart.status_code in (401, 403)
    # And the stack's cached answer is its own: the platform's cache never reads it
    digest = hashlib.sha256(buyer["token"].encode()).hexdigest()
    assert redis.Redis.from_url(settings.REDIS_URL).keys(f"*buyers:token-check:{digest}")
    assert cache.get(f"buyers:token-check:{digest}") is None


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy", "no_queue")
def test_a_dedicated_store_answers_503_when_the_control_plane_cannot_say_who_a_buyer_is(
    staff_api, make_store, root_api, monkeypatch, tmp_path
):
    # Given a live dedicated store whose control plane cannot be reached
    monkeypatch.setenv("MARKETPLACE_API_URL", f"http://127.0.0.1:{free_port()}")
    tenant = live_dedicated_store(staff_api, make_store)
    buyer = sign_up_buyer(root_api)
    with serving("pottery", tmp_path):
        # When a buyer with a good token uses the cart
        shop = store_api("pottery", buyer["token"])
        looked = shop.get("/api/v1/cart")
        added = shop.post("/api/v1/cart/items", {"product": 1, "quantity": 1}, format="json")

    # Then the store says it cannot check sign-ins now: neither a refusal nor the buyer's cart
    assert looked.status_code == 503, looked.content
    assert looked.json()["code"] == "buyer_check_unavailable"
    assert added.status_code == 503
    with dedicated_database(tenant.database_name) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_cart")
        assert cursor.fetchone() == (0,)


def test_only_a_dedicated_stores_publishing_token_may_ask_who_holds_a_buyer_token(make_store, root_api):
    # Given a buyer, a dedicated store and a shared store, each store with its publishing token
    buyer = sign_up_buyer(root_api)
    digest = hashlib.sha256(buyer["token"].encode()).hexdigest()
    dedicated = issue_publishing_token(make_store(subdomain="pottery", tenancy="dedicated").tenant)
    shared = issue_publishing_token(make_store(subdomain="bakery").tenant)

    def check(token: str | None, body: dict[str, str]) -> Any:
        client = APIClient(HTTP_HOST=ROOT_HOST)
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post(CHECK, body, format="json")

    # When each asks about the buyer's token (and the dedicated store about a token nobody holds)
    answers = {
        "dedicated": check(dedicated, {"digest": digest}),
        "unknown": check(dedicated, {"digest": "0" * 64}),
        "raw token": check(dedicated, {"digest": buyer["token"]}),
        "shared": check(shared, {"digest": digest}),
        "buyer's own token": check(buyer["token"], {"digest": digest}),
        "nobody": check(None, {"digest": digest}),
    }
    on_a_store_host = store_api("bakery", dedicated).post(CHECK, {"digest": digest}, format="json")
    # (nor does a shared store's host take hand-offs of Connect events: only a dedicated stack has that page)
    hand_off = store_api("bakery").post(forwarding.FORWARD_PATH, {"event": "evt_1", "account": "acct_1"}, format="json")

    # Then only the dedicated store's stack is told who the buyer is
    assert answers["dedicated"].status_code == 200
    assert answers["dedicated"].json() == {
        "id": buyer["buyer"]["id"],
        "email": buyer["buyer"]["email"],
        "name": "Ada Buyer",
    }
    assert answers["unknown"].status_code == 404 and answers["unknown"].json()["code"] == "unknown_buyer_token"
    assert answers["raw token"].status_code == 400
    assert answers["shared"].status_code == 403
    assert answers["buyer's own token"].status_code == 401 and answers["nobody"].status_code == 401
    assert on_a_store_host.status_code != 200 and hand_off.status_code == 404
    for answer in ("shared", "buyer's own token", "nobody"):
        assert buyer["buyer"]["email"] not in answers[answer].content.decode()


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy", "no_queue", "control_plane")
def test_a_card_payment_to_a_dedicated_store_reaches_its_own_database_through_the_platform(
    staff_api,
    make_store,
    root_api,
    stripe_fake,
    monkeypatch,
    tmp_path,
):
    # Given a live dedicated store whose stack may use Stripe (the key made for stacks) and has connected
    # its account, and a buyer of the marketplace
    stack_stripe = {
        "DEDICATED_STRIPE_SECRET_KEY": stripe_fake.api_key,
        "STRIPE_API_BASE": stripe_fake.base_url,
        "STRIPE_PUBLISHABLE_KEY": stripe_fake.publishable_key,
        "STRIPE_JS_URL": f"{stripe_fake.base_url}/v3/stripe.js",
    }
    for name, value in stack_stripe.items():
        monkeypatch.setenv(name, value)
    tenant = live_dedicated_store(staff_api, make_store)
    buyer = sign_up_buyer(root_api)
    with serving("pottery", tmp_path) as upstream:
        owner = owner_api()
        started = owner.post("/api/v1/payments/stripe/account")
        assert started.status_code == 200, started.content
        account = started.json()["account"]
        onboarding_event = stripe_fake.complete_onboarding(account)
        onboarded = deliver(stripe_fake, onboarding_event)
        shop = store_api("pottery", buyer["token"])
        fill_cart(shop, (add_jar(owner), 2))
        checkout = shop.post(
            "/api/v1/checkout", {"fulfilment": "pickup", "payment": "stripe"}, format="json", HTTP_IDEMPOTENCY_KEY="c1"
        )
        assert checkout.status_code == 201, checkout.content
        order = checkout.json()["order"]

        # When the buyer pays, Stripe tells the platform (twice), and someone else posts to the stack directly
        paid_event = stripe_fake.pay(checkout.json()["payment"]["payment_intent"])
        paid = deliver(stripe_fake, paid_event)
        redelivered = deliver(stripe_fake, paid_event)
        body = json.dumps({"event": paid_event["id"], "account": account}).encode()
        forged = post_to_stack(
            upstream, forwarding.FORWARD_PATH, body, {forwarding.SIGNATURE_HEADER: forwarding.signature(body, "guess")}
        )
        seen_by_owner = owner.get(f"/api/v1/orders/{order['id']}").json()

    # Then the store's stack applied each event once, in its own database
    assert onboarded.status_code == 200 and onboarded.json()["outcome"] == "account charges_enabled=True"
    assert paid.status_code == 200 and paid.json()["outcome"] == f"order {order['number']} paid"
    assert redelivered.json()["outcome"] == "duplicate"
    assert seen_by_owner["status"] == "paid"
    assert seen_by_owner["history"][-1]["by"] == "stripe"
    with dedicated_database(tenant.database_name) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT status, buyer_id FROM orders_order")
        assert cursor.fetchall() == [("paid", buyer["buyer"]["id"])]
        cursor.execute("SELECT event_id FROM payments_paymentevent ORDER BY id")
        assert [event for (event,) in cursor.fetchall()] == [onboarding_event["id"], paid_event["id"]]
    # And a hand-off not signed by the platform is refused
    assert forged == 403
    # And once the stack is down, the platform answers Stripe 503, so Stripe delivers the event again later
    after_stop = deliver(stripe_fake, paid_event)
    assert after_stop.status_code == 503 and after_stop.json()["code"] == "store_stack_unavailable"
