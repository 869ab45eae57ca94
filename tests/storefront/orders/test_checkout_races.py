"""Checkouts racing on real PostgreSQL, each request on its own connection and released together: the
last units give exactly as many orders as units, carts holding the same products in opposite orders
never deadlock, and one Idempotency-Key retried at once orders once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from storefront.catalog.models import Product
from storefront.orders.models import Order
from tests.storefront.orders.conftest import add_product, fill_cart, shop

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("committed_tenancy")]
PICKUP = {"fulfilment": "pickup", "payment": "local"}


def race(requests: list[Callable[[], Any]]) -> list[Any]:
    """Run every request in its own thread (its own connection), released together; their responses."""
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            answers[index] = requests[index]()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [a for a in answers if a is None or isinstance(a, Exception)], answers
    return answers


def test_racing_checkouts_for_the_last_units_give_exactly_as_many_orders_as_units(make_store, make_buyer, in_store_of):
    store = make_store()
    loaf = add_product(store, stock=5)
    clients = [shop(store, make_buyer()) for _ in range(16)]
    for client in clients:
        fill_cart(client, (loaf, 1))

    answers = race([lambda c=client: c.post("/api/v1/checkout", PICKUP, format="json") for client in clients])

    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 5 + [409] * 11
    refused = [a.json() for a in answers if a.status_code == 409]
    assert all(body["code"] == "sold_out" and body["items"][0]["available"] == 0 for body in refused)
    with in_store_of(store):
        assert Order.objects.count() == 5
        assert Product.objects.values_list("stock", "allocated").get() == (5, 5)


def test_carts_holding_the_same_products_in_opposite_orders_never_deadlock(make_store, make_buyer, in_store_of):
    store = make_store()
    products = [add_product(store, stock=100) for _ in range(4)]
    clients = [shop(store, make_buyer()) for _ in range(12)]
    for n, client in enumerate(clients):
        ordered = products if n % 2 else list(reversed(products))
        fill_cart(client, *[(product, 1) for product in ordered])

    answers = race([lambda c=client: c.post("/api/v1/checkout", PICKUP, format="json") for client in clients])

    assert [answer.status_code for answer in answers] == [201] * 12, [a.content[:200] for a in answers]
    with in_store_of(store):
        assert sorted(Product.objects.values_list("allocated", flat=True)) == [12] * 4


def test_one_checkout_retried_at_the_same_moment_orders_once(make_store, buyer, in_store_of):
    store = make_store()
    loaf = add_product(store, stock=10)
    fill_cart(shop(store, buyer), (loaf, 2))
    clients = [shop(store, buyer) for _ in range(6)]

    answers = race(
        [
            lambda c=client: c.post("/api/v1/checkout", PICKUP, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
            for client in clients
        ]
    )

    assert [answer.status_code for answer in answers] == [201] * 6
    assert len({answer.content for answer in answers}) == 1
    assert sum(1 for answer in answers if answer.get("Idempotent-Replayed") == "true") == 5
    with in_store_of(store):
        assert Order.objects.count() == 1 and Product.objects.get().allocated == 2
