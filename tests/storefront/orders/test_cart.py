"""A buyer's cart over the API on a store host: prices from the catalog, whole positive quantities,
only this store's products for sale, and only the buyer's own cart."""

from __future__ import annotations

import pytest

from storefront.orders.models import Cart, CartItem
from tests.conftest import store_api
from tests.storefront.orders.conftest import add_product, fill_cart, shop

pytestmark = pytest.mark.django_db


def test_a_buyer_fills_a_cart_priced_from_the_catalog_not_the_request(make_store, buyer):
    store = make_store()
    loaf, jam = add_product(store, price=350), add_product(store, price=420)
    client = shop(store, buyer)

    added = client.post("/api/v1/cart/items", {"product": loaf, "quantity": 2, "unit_price": 1}, format="json")
    fill_cart(client, (jam, 1), (loaf, 1))

    assert added.status_code == 201
    cart = client.get("/api/v1/cart").json()
    assert cart["currency"] == "GBP" and cart["total"] == 3 * 350 + 420
    assert [(i["product"], i["quantity"], i["unit_price"], i["line_total"]) for i in cart["items"]] == [
        (loaf, 3, 350, 1050),
        (jam, 1, 420, 420),
    ]
    item = cart["items"][0]["id"]
    changed = client.patch(f"/api/v1/cart/items/{item}", {"quantity": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["total"] == 350 + 420
    removed = client.delete(f"/api/v1/cart/items/{item}")
    assert removed.status_code == 200 and [i["product"] for i in removed.json()["items"]] == [jam]


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, None, 10_001])
def test_quantities_are_whole_and_positive(make_store, buyer, quantity, in_store_of):
    store = make_store()
    loaf = add_product(store)

    response = shop(store, buyer).post("/api/v1/cart/items", {"product": loaf, "quantity": quantity}, format="json")

    assert response.status_code == 400 and "quantity" in response.json()
    with in_store_of(store):
        assert not CartItem.objects.exists()


def test_archived_drafts_and_other_stores_products_are_refused_with_a_clear_400(make_store, buyer, in_store_of):
    store, other = make_store(), make_store()
    archived = add_product(store, status="archived")
    draft = add_product(store, status="draft")
    mine = {archived, draft, add_product(store)}
    # One of the other store's products whose id is none of this store's (schemas number ids apart).
    theirs = next(product for product in (add_product(other) for _ in range(4)) if product not in mine)
    client = shop(store, buyer)

    answers = {
        name: client.post("/api/v1/cart/items", {"product": product, "quantity": 1}, format="json")
        for name, product in {"archived": archived, "draft": draft, "theirs": theirs}.items()
    }

    assert {name: r.status_code for name, r in answers.items()} == {"archived": 400, "draft": 400, "theirs": 400}
    assert answers["archived"].json()["product"] == [answers["archived"].json()["product"][0]]
    assert "not for sale" in answers["archived"].json()["product"][0]
    assert "no product" in answers["theirs"].json()["product"][0]
    with in_store_of(store):
        assert not CartItem.objects.exists()


def test_another_buyers_cart_items_cannot_be_changed_or_removed(make_store, make_buyer, in_store_of):
    store = make_store()
    loaf = add_product(store)
    ada, bob = make_buyer(), make_buyer()
    fill_cart(shop(store, ada), (loaf, 2))
    item = shop(store, ada).get("/api/v1/cart").json()["items"][0]["id"]

    changed = shop(store, bob).patch(f"/api/v1/cart/items/{item}", {"quantity": 9}, format="json")
    removed = shop(store, bob).delete(f"/api/v1/cart/items/{item}")

    assert (changed.status_code, removed.status_code) == (404, 404)
    assert shop(store, bob).get("/api/v1/cart").json()["items"] == []
    assert [(i["id"], i["quantity"]) for i in shop(store, ada).get("/api/v1/cart").json()["items"]] == [(item, 2)]


def test_a_cart_needs_a_buyer_token_and_a_staff_token_is_not_one(make_store, buyer, in_store_of):
    store = make_store()
    loaf = add_product(store)

    anonymous = store_api(store.tenant.slug).post("/api/v1/cart/items", {"product": loaf, "quantity": 1}, format="json")
    staff = store_api(store.tenant.slug, store.token).get("/api/v1/cart")
    forged = store_api(store.tenant.slug, "lbb_not-a-token").get("/api/v1/cart")

    assert (anonymous.status_code, staff.status_code, forged.status_code) == (401, 401, 401)
    with in_store_of(store):
        assert not Cart.objects.exists()


def test_a_buyer_token_opens_no_staff_api(make_store, buyer):
    store = make_store()
    add_product(store)
    client = shop(store, buyer)

    assert client.get("/api/v1/products").status_code == 401
    assert client.post("/api/v1/products", {"title": "Mine", "price": 1, "sku": "X"}, format="json").status_code == 401
    assert client.get("/api/v1/seller-profile").status_code == 401


def test_the_cart_is_per_store(make_store, buyer):
    one, two = make_store(), make_store()
    fill_cart(shop(one, buyer), (add_product(one), 1))

    assert shop(two, buyer).get("/api/v1/cart").json() == {"items": [], "currency": "", "total": 0}
