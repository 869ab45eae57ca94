"""A buyer's orders in every store, on the root host: each placed order and status change of a signed-in
buyer's order goes through its store's outbox into the platform's index, which alone serves
`GET /api/v1/buyers/me/orders` and the "Your orders" page; guests' orders never reach it, and replayed or
reordered drains converge on each order's latest change."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from storefront.publishing.order_history import IndexOrderPublisher
from storefront.purchases.models import BuyerOrder, PendingOrderChanges
from storefront.purchases.services import OrderSummary, latest_per_order, record_buyer_orders
from tenants.routing import store_url
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, store_api
from tests.storefront.conftest import SchemaKeepingBrowser
from tests.storefront.orders.conftest import add_product
from tests.storefront.payments.conftest import connected_store, deliver, stripe_fake
from tests.storefront.payments.test_card_payments import card_checkout
from tests.storefront.purchases.conftest import drain, history, move, outbox, place, seen
from tests.storefront.shop.test_guest_checkout import add_product as add_product_here
from tests.storefront.shop.test_guest_checkout import add_to_cart, checkout_form, guest

pytestmark = pytest.mark.django_db
__all__ = ["stripe_fake"]


def test_a_buyers_orders_in_two_stores_are_listed_newest_first_with_their_status_after_a_move(make_store, buyer):
    # Given a buyer who ordered from a bakery, then from a pottery, and the bakery marked its order paid
    bakery = make_store(store_name="Hebden Bakery")
    pottery = make_store(store_name="Todmorden Pottery")
    loaf = add_product(bakery, price=450, title="Sourdough loaf")
    bowl = add_product(pottery, price=3600, title="Tenmoku bowl")
    mug = add_product(pottery, price=1200, title="Celadon mug")
    bread = place(bakery, buyer, (loaf, 2))
    pots = place(pottery, buyer, (bowl, 1), (mug, 2))
    assert move(bakery, bread["id"], "paid").status_code == 200

    # Then nothing is listed before the stores' outboxes drain: the history is the index, never the stores
    assert outbox(bakery) == [(bread["number"], "placed"), (bread["number"], "paid")]
    assert PendingOrderChanges.objects.filter(tenant_id__in=[bakery.tenant.pk, pottery.tenant.pk]).count() == 2
    assert seen(buyer["token"]) == []

    # When they drain
    assert (drain(bakery), drain(pottery)) == (2, 1)

    # Then both orders are listed, the newest first, the bakery's as paid
    body = history(buyer["token"]).json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    newest, oldest = body["results"]
    assert {key: newest[key] for key in ("store", "store_name", "number", "status", "status_label")} == {
        "store": pottery.tenant.slug,
        "store_name": "Todmorden Pottery",
        "number": pots["number"],
        "status": "placed",
        "status_label": "Placed",
    }
    assert (newest["total"], newest["currency"], newest["item_count"], newest["first_item_title"]) == (
        6000,
        "GBP",
        3,
        "Tenmoku bowl",
    )
    assert newest["store_url"] == store_url(pottery.tenant.slug)
    assert newest["order_url"] == f"{store_url(pottery.tenant.slug)}orders/{pots['number']}/"
    assert (oldest["store_name"], oldest["number"], oldest["status"], oldest["status_label"]) == (
        "Hebden Bakery",
        bread["number"],
        "paid",
        "Paid",
    )
    assert (oldest["total"], oldest["item_count"], oldest["first_item_title"]) == (900, 2, "Sourdough loaf")
    assert oldest["placed_at"] < newest["placed_at"] <= newest["updated_at"]
    # And the outboxes are empty, the stores no longer flagged
    assert outbox(bakery) == outbox(pottery) == []
    assert not PendingOrderChanges.objects.exists()


def test_a_guests_order_is_never_indexed(in_store, make_buyer):
    # Given a guest buying on the store's pages, with no account
    loaf = add_product_here("Sourdough loaf", price=450, stock=5)
    browser = guest(in_store)
    add_to_cart(browser, loaf, 2)

    placed = browser.post("/checkout/", checkout_form(browser))
    connection.set_schema_to_public()

    # Then their order writes no outbox row and flags nothing, and no drain indexes it
    assert placed.status_code == 303
    assert outbox(in_store) == []
    assert not PendingOrderChanges.objects.exists()
    assert drain(in_store) == 0
    assert not BuyerOrder.objects.exists()


def test_a_refused_move_records_nothing(make_store, buyer):
    store = make_store()
    loaf = add_product(store)
    order = place(store, buyer, (loaf, 1))
    drain(store)

    refused = move(store, order["id"], "completed")

    assert refused.status_code == 409
    assert outbox(store) == []
    assert not PendingOrderChanges.objects.exists()
    assert seen(buyer["token"]) == [(store.tenant.name, order["number"], "placed")]


def test_the_history_is_paginated(make_store, buyer):
    store = make_store()
    loaf = add_product(store, stock=50)
    numbers = [place(store, buyer, (loaf, 1))["number"] for _ in range(3)]
    drain(store)

    first = history(buyer["token"], page_size=2).json()
    second = history(buyer["token"], page_size=2, page=2).json()

    assert [row["number"] for row in first["results"]] == numbers[:0:-1]
    assert first["count"] == 3 and first["previous"] is None and "page=2" in first["next"]
    assert [row["number"] for row in second["results"]] == numbers[:1]
    assert second["next"] is None and "page=" not in second["previous"]
    assert history(buyer["token"], page_size=101).status_code == 400


class Recording(IndexOrderPublisher):
    """The index publisher, keeping each batch it handed over (to replay them later)."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, list[OrderSummary]]] = []

    def publish(self, tenant_id: int, summaries: Any) -> None:
        self.batches.append((tenant_id, list(summaries)))
        super().publish(tenant_id, summaries)


def test_replayed_and_reordered_drains_converge_on_each_orders_latest_change(make_store, buyer):
    # Given an order that went placed, paid, ready, completed and another just placed, drained one row a batch
    store = make_store()
    loaf = add_product(store, stock=10)
    done = place(store, buyer, (loaf, 1))
    for status in ("paid", "ready_for_pickup", "completed"):
        assert move(store, done["id"], status).status_code == 200
    fresh = place(store, buyer, (loaf, 2))
    recording = Recording()
    assert drain(store, publisher=recording, batch_size=1) == 5
    latest = seen(buyer["token"])
    assert latest == [(store.tenant.name, fresh["number"], "placed"), (store.tenant.name, done["number"], "completed")]
    versions = dict(BuyerOrder.objects.values_list("order_id", "source_version"))

    # When every batch is delivered again, newest first, then oldest first: nothing changes
    for tenant_id, batch in [*reversed(recording.batches), *recording.batches]:
        assert record_buyer_orders(tenant_id, batch) == 0
    assert seen(buyer["token"]) == latest

    # And from an empty index, the batches in any order end in the same state
    shuffler = random.Random(20261207)
    for _ in range(12):
        BuyerOrder.objects.all().delete()
        batches = list(recording.batches)
        shuffler.shuffle(batches)
        for tenant_id, batch in batches:
            record_buyer_orders(tenant_id, batch)
        assert seen(buyer["token"]) == latest
        assert dict(BuyerOrder.objects.values_list("order_id", "source_version")) == versions


def summary(order_id: int, version: int) -> OrderSummary:
    now = timezone.now()
    return OrderSummary(order_id, version, 1, f"{order_id:06d}", "placed", 100, "GBP", 1, "Loaf", now, now)


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 50)), max_size=30))
def test_a_batch_keeps_each_orders_newest_change_only(changes):
    kept = latest_per_order(summary(order_id, version) for order_id, version in changes)

    expected = {}
    for order_id, version in changes:
        expected[order_id] = max(version, expected.get(order_id, 0))
    assert [(s.order_id, s.version) for s in kept] == sorted(expected.items())


def test_a_card_order_paid_through_stripes_webhook_shows_as_paid(make_store, buyer, stripe_fake):
    store = connected_store(make_store, stripe_fake)
    loaf = add_product(store, stock=4, price=1000)
    body = card_checkout(store, buyer, loaf, 1)
    drain(store)
    assert seen(buyer["token"]) == [(store.tenant.name, body["order"]["number"], "pending_payment")]

    deliver(stripe_fake, stripe_fake.pay(body["payment"]["payment_intent"]))
    drain(store)

    assert seen(buyer["token"]) == [(store.tenant.name, body["order"]["number"], "paid")]


def test_the_history_costs_the_same_queries_however_many_stores(make_store, buyer, django_assert_num_queries):
    stores = [make_store() for _ in range(3)]
    for store in stores[:1]:
        place(store, buyer, (add_product(store), 1))
        drain(store)
    with django_assert_num_queries(QUERIES):
        assert len(seen(buyer["token"])) == 1
    for store in stores[1:]:
        place(store, buyer, (add_product(store), 1))
        drain(store)
    with django_assert_num_queries(QUERIES):
        assert len(seen(buyer["token"])) == 3


# The buyer's token, the count, the page of orders with their stores.
QUERIES = 3


# --- The "Your orders" page on the root domain ---------------------------------------------------------


def signed_in_on_root(buyer: dict[str, Any]) -> Client:
    browser = SchemaKeepingBrowser(HTTP_HOST=ROOT_HOST)
    signed_in = browser.post("/buyers/sign-in/", {"email": buyer["buyer"]["email"], "password": STRONG_PASSWORD})
    assert signed_in.status_code == 303, signed_in.content
    return browser


def test_your_orders_page_lists_the_signed_in_buyers_orders_with_links_to_their_stores(make_store, buyer):
    bakery = make_store(store_name="Hebden Bakery")
    loaf = add_product(bakery, price=450, title="Sourdough loaf")
    order = place(bakery, buyer, (loaf, 3))
    assert move(bakery, order["id"], "paid").status_code == 200
    drain(bakery)

    page = signed_in_on_root(buyer).get("/buyers/orders/")

    html = page.content.decode()
    assert page.status_code == 200 and "no-cache" in page["Cache-Control"]
    assert f'<a href="{store_url(bakery.tenant.slug)}orders/{order["number"]}/">{order["number"]}</a>' in html
    assert f'<a href="{store_url(bakery.tenant.slug)}">Hebden Bakery</a>' in html
    assert "Sourdough loaf · 3 items" in html and "£13.50" in html
    assert '<td class="status status-paid">Paid</td>' in html


def test_your_orders_page_sends_a_visitor_who_is_not_signed_in_to_sign_in(make_store):
    page = Client(HTTP_HOST=ROOT_HOST).get("/buyers/orders/")

    assert (page.status_code, page["Location"]) == (302, "/buyers/sign-in/")


def test_your_orders_page_of_a_buyer_with_no_orders_says_so(buyer):
    page = signed_in_on_root(buyer).get("/buyers/orders/")

    assert page.status_code == 200 and "No orders yet." in page.content.decode()


def test_a_closed_account_takes_its_history_with_it_and_later_changes_add_nothing_back(
    make_store, buyer, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a buyer's order in the history
    bakery = make_store(store_name="Hebden Bakery")
    loaf = add_product(bakery, price=450, title="Sourdough loaf")
    bread = place(bakery, buyer, (loaf, 1))
    drain(bakery)
    assert BuyerOrder.objects.filter(buyer_id=buyer["buyer"]["id"]).count() == 1

    # When they close their account, and the store marks the order paid afterwards
    account = SchemaKeepingBrowser(HTTP_HOST=ROOT_HOST, HTTP_AUTHORIZATION=f"Bearer {buyer['token']}")
    with django_capture_on_commit_callbacks(execute=True):
        closed = account.delete("/api/v1/buyers/me", {"password": STRONG_PASSWORD}, content_type="application/json")
    assert closed.status_code == 204
    assert move(bakery, bread["id"], "paid").status_code == 200
    drain(bakery)

    # Then the index holds nothing of theirs; the store keeps its order
    assert not BuyerOrder.objects.filter(buyer_id=buyer["buyer"]["id"]).exists()
    kept = store_api(bakery.tenant.slug, bakery.token).get(f"/api/v1/orders/{bread['id']}").json()
    assert (kept["number"], kept["status"], kept["total"]) == (bread["number"], "paid", bread["total"])
    # ...without saying who the buyer was
    buyer_id = buyer["buyer"]["id"]
    assert (kept["email"], kept["name"]) == (f"deleted-{buyer_id}@deleted.invalid", "")
