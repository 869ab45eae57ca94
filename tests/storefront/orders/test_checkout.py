"""Checkout over the API: an order from the cart (pickup or delivery), all of it or nothing, stock
allocated, the cart emptied, the buyer mailed; retries with the same Idempotency-Key order once."""

from __future__ import annotations

import pytest

from storefront.catalog.models import Product
from storefront.orders.models import CheckoutRequest, Order, OrderLine, StockReservation
from tests.storefront.orders.conftest import add_product, fill_cart, shop

pytestmark = pytest.mark.django_db
PICKUP = {"fulfilment": "pickup", "payment": "local"}


def test_a_pickup_checkout_places_the_order_allocates_its_stock_and_mails_the_buyer(
    make_store, buyer, in_store_of, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    store = make_store()
    loaf, jam = add_product(store, stock=5, price=350), add_product(store, stock=2, price=420)
    client = shop(store, buyer)
    fill_cart(client, (loaf, 2), (jam, 2))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/checkout", PICKUP, format="json")

    assert response.status_code == 201, response.content
    order = response.json()["order"]
    assert (order["status"], order["total"], order["currency"], order["fulfilment"]) == (
        "placed",
        1540,
        "GBP",
        "pickup",
    )
    assert [(i["product"], i["quantity"], i["unit_price"]) for i in order["items"]] == [(loaf, 2, 350), (jam, 2, 420)]
    assert (
        response.json()["payment"]["provider"] == "local"
        and order["number"] in response.json()["payment"]["instructions"]
    )
    assert client.get("/api/v1/cart").json()["items"] == []
    with in_store_of(store):
        assert dict(Product.objects.values_list("pk", "allocated")) == {loaf: 2, jam: 2}
        assert dict(Product.objects.values_list("pk", "stock")) == {loaf: 5, jam: 2}  # still on the shelf
    assert [m.subject for m in mailoutbox] == [f"Order {order['number']} placed"]
    assert mailoutbox[0].to == [buyer["buyer"]["email"]] and "Collect it from the shop" in mailoutbox[0].body


def test_a_delivery_needs_an_address_and_an_empty_cart_orders_nothing(make_store, buyer, in_store_of):
    store = make_store()
    client = shop(store, buyer)

    empty = client.post("/api/v1/checkout", PICKUP, format="json")
    fill_cart(client, (add_product(store), 1))
    no_address = client.post("/api/v1/checkout", {"fulfilment": "delivery"}, format="json")
    partial = client.post(
        "/api/v1/checkout", {"fulfilment": "delivery", "address": {"line1": "1 Mill Lane"}}, format="json"
    )
    bad_choice = client.post("/api/v1/checkout", {"fulfilment": "teleport"}, format="json")

    assert (empty.status_code, empty.json()) == (400, {"cart": ["Your cart is empty."]})
    assert no_address.status_code == 400 and "address" in no_address.json()
    assert partial.status_code == 400 and set(partial.json()["address"]) == {"town", "postcode"}
    assert bad_choice.status_code == 400 and "fulfilment" in bad_choice.json()
    with in_store_of(store):
        assert not Order.objects.exists() and Product.objects.get().allocated == 0


def test_a_delivery_order_keeps_its_address(make_store, buyer):
    store = make_store()
    client = shop(store, buyer)
    fill_cart(client, (add_product(store), 1))
    address = {"line1": "1 Mill Lane", "town": "Hebden Bridge", "postcode": "HX7 8AD"}

    response = client.post("/api/v1/checkout", {"fulfilment": "delivery", "address": address}, format="json")

    assert response.status_code == 201
    assert response.json()["order"]["address"] == {**address, "line2": ""}


def test_a_cart_asking_for_more_than_is_left_orders_nothing_and_says_what_is_short(make_store, buyer, in_store_of):
    store = make_store()
    plenty, scarce = add_product(store, stock=9), add_product(store, stock=1)
    client = shop(store, buyer)
    fill_cart(client, (plenty, 2), (scarce, 3))

    response = client.post("/api/v1/checkout", PICKUP, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "sold_out"
    assert [(i["product"], i["requested"], i["available"]) for i in body["items"]] == [(scarce, 3, 1)]
    with in_store_of(store):
        assert not Order.objects.exists() and not OrderLine.objects.exists()
        assert list(Product.objects.values_list("allocated", flat=True)) == [0, 0]
    assert len(client.get("/api/v1/cart").json()["items"]) == 2  # the cart is kept to change


def test_a_product_archived_after_it_was_added_is_sold_out_at_checkout(make_store, buyer, in_store_of):
    store = make_store()
    loaf = add_product(store)
    client = shop(store, buyer)
    fill_cart(client, (loaf, 1))
    with in_store_of(store):
        Product.objects.filter(pk=loaf).update(status="archived")

    response = client.post("/api/v1/checkout", PICKUP, format="json")

    assert response.status_code == 409 and response.json()["items"][0]["available"] == 0


def test_units_in_placed_orders_are_not_sold_again(make_store, make_buyer):
    store = make_store()
    loaf = add_product(store, stock=3)
    first, second = shop(store, make_buyer()), shop(store, make_buyer())
    fill_cart(first, (loaf, 2))
    fill_cart(second, (loaf, 2))

    assert first.post("/api/v1/checkout", PICKUP, format="json").status_code == 201
    refused = second.post("/api/v1/checkout", PICKUP, format="json")

    assert refused.status_code == 409 and refused.json()["items"][0]["available"] == 1


def test_the_same_idempotency_key_orders_once_and_answers_the_same_body(make_store, buyer, in_store_of):
    store = make_store()
    loaf = add_product(store, stock=5)
    client = shop(store, buyer)
    fill_cart(client, (loaf, 1))

    first = client.post("/api/v1/checkout", PICKUP, format="json", HTTP_IDEMPOTENCY_KEY="attempt-1")
    fill_cart(client, (loaf, 1))  # a new cart meanwhile does not change the retry's answer
    again = client.post("/api/v1/checkout", PICKUP, format="json", HTTP_IDEMPOTENCY_KEY="attempt-1")
    other_body = client.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "name": "Someone"}, format="json", HTTP_IDEMPOTENCY_KEY="attempt-1"
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    with in_store_of(store):
        assert Order.objects.count() == 1 and CheckoutRequest.objects.count() == 1
        assert Product.objects.get().allocated == 1
    assert len(client.get("/api/v1/cart").json()["items"]) == 1


def test_another_buyers_idempotency_key_is_theirs(make_store, make_buyer, in_store_of):
    store = make_store()
    loaf = add_product(store, stock=5)
    ada, bob = shop(store, make_buyer()), shop(store, make_buyer())
    fill_cart(ada, (loaf, 1))
    fill_cart(bob, (loaf, 2))

    mine = ada.post("/api/v1/checkout", PICKUP, format="json", HTTP_IDEMPOTENCY_KEY="k")
    theirs = bob.post("/api/v1/checkout", PICKUP, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["order"]["id"] != theirs.json()["order"]["id"]
    assert theirs.json()["order"]["items"][0]["quantity"] == 2


def test_card_payment_is_refused_until_the_store_takes_cards(make_store, buyer, in_store_of):
    store = make_store()
    client = shop(store, buyer)
    fill_cart(client, (add_product(store), 1))

    response = client.post("/api/v1/checkout", {"fulfilment": "pickup", "payment": "stripe"}, format="json")

    assert response.status_code == 400 and "card payments" in response.json()["payment"][0].lower()
    with in_store_of(store):
        assert not Order.objects.exists() and not StockReservation.objects.exists()
