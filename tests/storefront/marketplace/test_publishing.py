"""A store's catalog changes reach the marketplace through its outbox: created, edited, archived and
deleted products, CSV imports and a seller who moves; one store never writes another's listings."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from storefront.catalog.models import Product
from storefront.marketplace.models import Listing, PendingPublication
from storefront.publishing.drain import drain_listing_changes
from storefront.publishing.models import ListingChange
from storefront.publishing.services import record_product_changes
from tests.storefront.conftest import client_for, csv_upload
from tests.storefront.marketplace.conftest import search, titles

pytestmark = pytest.mark.django_db


def drain(store) -> int:
    with tenant_context(store.tenant):
        drained = drain_listing_changes()
    connection.set_schema_to_public()
    return drained


def outbox_size(store) -> int:
    with tenant_context(store.tenant):
        size = ListingChange.objects.count()
    connection.set_schema_to_public()
    return size


def create(api, **fields) -> dict:
    body = {"title": "Sourdough loaf", "price": 450, "sku": "BREAD-1", "status": "active", **fields}
    response = api.post("/api/v1/products", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_product_change_writes_an_outbox_row_and_flags_the_store_in_the_same_transaction(make_store):
    store = make_store()
    api = client_for(store, store.token)

    create(api)

    assert outbox_size(store) == 1
    assert PendingPublication.objects.filter(tenant_id=store.tenant.pk).exists()
    assert not Listing.objects.exists()  # nothing published before the drain


def test_a_refused_change_leaves_no_outbox_row(make_store):
    store = make_store()
    api = client_for(store, store.token)
    create(api)
    drain(store)

    response = api.post("/api/v1/products", {"title": "Again", "price": 1, "sku": "BREAD-1"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["sku"]
    assert outbox_size(store) == 0
    assert not PendingPublication.objects.filter(tenant_id=store.tenant.pk).exists()
    with tenant_context(store.tenant):
        assert list(Product.objects.values_list("title", flat=True)) == ["Sourdough loaf"]
    connection.set_schema_to_public()


def test_created_edited_archived_and_deleted_products_follow_the_catalog(make_store, root_api):
    store = make_store(town="Hebden Bridge", postcode="HX7 8AD")
    api = client_for(store, store.token)
    loaf = create(api, tags=["vegan"])
    draft = create(api, title="Secret recipe bread", sku="BREAD-2", status="draft")

    assert drain(store) == 2
    assert titles(search(root_api, q="loaf")) == ["Sourdough loaf"]
    assert search(root_api, q="secret")["count"] == 0
    hit = search(root_api, q="vegan", near="Todmorden")["results"][0]
    assert hit["product_url"].endswith(f"/products/{loaf['id']}/") and 0 < hit["distance_km"] < 10

    api.patch(f"/api/v1/products/{loaf['id']}", {"title": "Rye sourdough loaf", "price": 500}, format="json")
    api.patch(f"/api/v1/products/{draft['id']}", {"status": "active"}, format="json")
    drain(store)
    assert sorted(titles(search(root_api, q="bread loaf rye secret"))) == []  # all words must match
    assert titles(search(root_api, q="rye")) == ["Rye sourdough loaf"]
    assert search(root_api, q="rye")["results"][0]["price"] == 500
    assert titles(search(root_api, q="secret")) == ["Secret recipe bread"]

    api.patch(f"/api/v1/products/{loaf['id']}", {"status": "archived"}, format="json")
    assert api.delete(f"/api/v1/products/{draft['id']}").status_code == 204
    drain(store)

    assert search(root_api, q="loaf")["count"] == 0
    assert search(root_api, q="secret")["count"] == 0
    assert outbox_size(store) == 0
    assert not PendingPublication.objects.exists()


def test_a_seller_who_moves_republishes_every_listing_with_the_new_place(make_store, root_api):
    store = make_store(town="Hebden Bridge", postcode="HX7 8AD")
    api = client_for(store, store.token)
    create(api, title="Pottery mug", sku="MUG-1")
    drain(store)
    assert search(root_api, q="mug", near="Todmorden")["results"][0]["distance_km"] < 10

    response = api.put(
        "/api/v1/seller-profile", {"story": "", "town": "Carlisle", "postcode": "CA1 1AA"}, format="json"
    )
    assert response.status_code == 200, response.json()
    drain(store)

    hit = search(root_api, q="mug", near="Todmorden")["results"][0]
    assert hit["town"] == "Carlisle" and hit["distance_km"] > 100


def test_csv_imports_publish_what_they_import(make_store, root_api, eager_tasks, django_capture_on_commit_callbacks):
    store = make_store()
    api = client_for(store, store.token)
    rows = [
        ["sku", "title", "price", "status"],
        ["C-1", "Beeswax candle", "800", "active"],
        ["C-2", "Soy candle", "x", ""],
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/products/import", {"file": csv_upload(rows)}, format="multipart")
    assert response.status_code == 202

    # The import committed one product (the other row was refused) with its outbox row, and the drain
    # queued after that commit (run at once here) published it.
    assert outbox_size(store) == 0
    assert titles(search(root_api, q="candle")) == ["Beeswax candle"]
    assert Listing.objects.count() == 1


def test_stores_never_write_each_others_listings(make_store, root_api):
    alpha = make_store()
    beta = make_store()
    alpha_product = create(client_for(alpha, alpha.token), title="Alpha honey")
    with tenant_context(beta.tenant):  # ids are per schema: beta has a product with the same number
        Product.objects.create(id=alpha_product["id"], title="Beta honey", price=1, sku="B", status="active")
        record_product_changes([alpha_product["id"]])
    beta_product = alpha_product

    drain(alpha)
    assert titles(search(root_api, q="honey")) == ["Alpha honey"]
    drain(beta)

    listings = dict(Listing.objects.values_list("tenant_id", "title"))
    assert listings == {alpha.tenant.pk: "Alpha honey", beta.tenant.pk: "Beta honey"}
    with tenant_context(beta.tenant):
        Product.objects.filter(pk=beta_product["id"]).update(title="Changed behind the outbox")
    drain(alpha)  # alpha's drain has nothing of beta's to publish
    assert set(titles(search(root_api, q="honey"))) == {"Alpha honey", "Beta honey"}


def test_edits_in_the_store_admin_reach_the_marketplace(make_store, root_api):
    from tests.storefront.conftest import admin_browser

    store = make_store()
    browser = admin_browser(store)
    form = {"title": "Rye loaf", "sku": "RYE-1", "description": "", "price": "380", "currency": "GBP", "stock": "4"}
    form |= {"status": "active", "category": "", "tags": "bread"}
    form |= {"images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0"}
    form |= {"images-MIN_NUM_FORMS": "0", "images-MAX_NUM_FORMS": "1000"}

    assert browser.post("/admin/catalog/product/add/", form).status_code == 302
    drain(store)
    listed = titles(search(root_api, q="rye"))
    with tenant_context(store.tenant):
        product_id = Product.objects.get().pk
    connection.set_schema_to_public()
    change_url = f"/admin/catalog/product/{product_id}/change/"
    assert browser.post(change_url, form | {"status": "archived"}).status_code == 302
    drain(store)
    archived = titles(search(root_api, q="rye"))

    assert listed == ["Rye loaf"] and archived == []
    assert browser.post(change_url, form).status_code == 302
    drain(store)
    assert titles(search(root_api, q="rye")) == ["Rye loaf"]
    assert browser.post(f"/admin/catalog/product/{product_id}/delete/", {"post": "yes"}).status_code == 302
    drain(store)
    assert titles(search(root_api, q="rye")) == []
