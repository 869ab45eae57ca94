"""A product edited from a copy read before an order allocated some of its units keeps those allocations:
the edit writes the fields it changes, never the whole row it read."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from storefront.catalog import services
from storefront.catalog.models import Product
from tests.conftest import store_api
from tests.storefront.orders.conftest import add_product, buyer, fill_cart, make_buyer, shop

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "make_buyer"]


def test_an_edit_from_a_stale_copy_keeps_the_units_an_order_allocated(store, buyer) -> None:
    loaf = add_product(store, stock=10, price=450)
    with tenant_context(store.tenant):
        stale = Product.objects.get(pk=loaf)  # the merchant's form was opened here

    client = shop(store, buyer)
    fill_cart(client, (loaf, 3))
    placed = client.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert placed.status_code == 201

    with tenant_context(store.tenant):
        services.update_product(stale, price=500)
        fresh = Product.objects.get(pk=loaf)
        assert (fresh.price, fresh.stock, fresh.allocated) == (500, 10, 3)
    # And over the API the same: the price changes, the allocation stays
    patched = store_api(store.tenant.slug, store.token).patch(
        f"/api/v1/products/{loaf}", {"title": "Loaf"}, format="json"
    )
    assert patched.status_code == 200
    with tenant_context(store.tenant):
        assert Product.objects.get(pk=loaf).allocated == 3
