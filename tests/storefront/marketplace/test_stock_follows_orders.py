"""The marketplace's "Only N left" and "Sold out" follow the orders a store takes: a checkout or a cancel that
moves a product's units left to sell near or below the low mark republishes it; a plentiful product's checkout
writes nothing to the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import tenant_context

from storefront.marketplace.models import Listing
from storefront.publishing.drain import drain_listing_changes
from storefront.publishing.models import ListingChange
from tests.conftest import store_api
from tests.storefront.orders.conftest import add_product, buyer, fill_cart, make_buyer, shop

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "make_buyer"]


def drained(store: Any) -> None:
    with tenant_context(store.tenant):
        drain_listing_changes()


def outbox_rows(store: Any) -> int:
    with tenant_context(store.tenant):
        return ListingChange.objects.count()


def test_a_checkout_and_a_cancel_move_the_stock_the_marketplace_shows(make_store, buyer) -> None:
    store = make_store(town="Hebden Bridge", postcode="HX7 8AD")
    jug = add_product(store, stock=6)
    mug = add_product(store, stock=100)
    drained(store)
    assert Listing.objects.get(product_id=jug).stock == 6

    # When a buyer orders 2 jugs and 1 mug
    client = shop(store, buyer)
    fill_cart(client, (jug, 2), (mug, 1))
    placed = client.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json", HTTP_IDEMPOTENCY_KEY="one"
    )
    assert placed.status_code == 201, placed.content

    # Then only the jug (now 4 left) waits to be republished, and the marketplace shows 4 once drained
    assert outbox_rows(store) == 1
    drained(store)
    assert Listing.objects.get(product_id=jug).stock == 4
    assert Listing.objects.get(product_id=mug).stock == 100  # plentiful: not republished for one sale

    # When the store cancels the order, the jugs are on sale again, and shown so
    cancelled = store_api(store.tenant.slug, store.token).post(
        f"/api/v1/orders/{placed.json()['order']['id']}/transition", {"to": "cancelled", "reason": "out"}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.content
    drained(store)
    assert Listing.objects.get(product_id=jug).stock == 6
