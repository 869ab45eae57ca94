"""Marketplace search on the root host: typo tolerance, community-first ranking, filters, visibility."""

from __future__ import annotations

import pytest

from storefront.marketplace.models import Listing
from tenants import lifecycle
from tests.storefront.marketplace.conftest import search, titles

pytestmark = pytest.mark.django_db


def test_a_misspelt_word_finds_the_listing_and_the_nearby_seller_ranks_first(make_store, publish, root_api):
    # Given the same cheese sold in Hebden Bridge and in Carlisle (about 150 km away)
    far = make_store(town="Carlisle", postcode="CA1 1AA")
    near = make_store(town="Hebden Bridge", postcode="HX7 8AD")
    publish(far, ("Farmhouse Cheddar", 650), town="Carlisle", postcode="CA1 1AA")
    publish(near, ("Farmhouse Cheddar", 650), town="Hebden Bridge", postcode="HX7 8AD")
    publish(near, ("Oatcakes", 300), town="Hebden Bridge", postcode="HX7 8AD")

    # When a buyer in Todmorden misspells it
    body = search(root_api, q="chedar", near="Todmorden")

    # Then both cheeses come back (not the oatcakes), the Hebden Bridge one first, with distances
    assert body["count"] == 2
    first, second = body["results"]
    assert (first["store"], second["store"]) == (near.tenant.slug, far.tenant.slug)
    assert first["distance_km"] < 10 < 100 < second["distance_km"]
    assert first["product_url"].startswith(f"http://{near.tenant.slug}.localhost")
    assert first["product_url"].endswith("/products/" + first["product_url"].rsplit("/products/", 1)[1])
    assert first["town"] == "Hebden Bridge"


def test_without_a_place_there_is_no_distance_and_the_order_is_relevance(make_store, publish, root_api):
    store = make_store()
    publish(store, ("Sourdough loaf", 450), ("Seeded loaf with sourdough starter", 500), postcode="HX7 8AD")

    body = search(root_api, q="sourdough")

    assert titles(body)[0] == "Sourdough loaf"
    assert [row["distance_km"] for row in body["results"]] == [None, None]


def test_filters_category_price_and_distance(make_store, publish, root_api):
    hebden = make_store()
    carlisle = make_store()
    publish(hebden, ("Honey jar", 500, {"category_slug": "pantry"}), ("Honey cake", 900), postcode="HX7 8AD")
    publish(carlisle, ("Heather honey", 700, {"category_slug": "pantry"}), town="Carlisle")

    assert sorted(titles(search(root_api, q="honey", category="pantry"))) == ["Heather honey", "Honey jar"]
    assert titles(search(root_api, q="honey", min_price=600, max_price=800)) == ["Heather honey"]
    assert sorted(titles(search(root_api, q="honey", near="Halifax", within_km=30))) == ["Honey cake", "Honey jar"]
    assert titles(search(root_api, q="honey", lat=54.89, lon=-2.93, within_km=5)) == ["Heather honey"]


def test_browsing_near_a_place_without_words_lists_the_nearest_first(make_store, publish, root_api):
    store = make_store()
    other = make_store()
    publish(store, ("Parkin", 380), postcode="HX7")
    publish(other, ("Eccles cake", 250), town="Manchester")

    body = search(root_api, near="Todmorden")

    assert titles(body) == ["Parkin", "Eccles cake"]


def test_a_suspended_store_disappears_at_once_and_comes_back_on_reactivation(make_store, publish, root_api):
    store = make_store()
    publish(store, ("Celadon mug", 2400), town="Todmorden")
    assert titles(search(root_api, q="mug")) == ["Celadon mug"]

    lifecycle.suspend(store.tenant, "unpaid", by=lifecycle.Actor.system("test"))
    assert search(root_api, q="mug")["count"] == 0
    assert Listing.objects.filter(tenant=store.tenant).count() == 1  # hidden, not lost

    lifecycle.reactivate(store.tenant, by=lifecycle.Actor.system("test"))
    assert titles(search(root_api, q="mug")) == ["Celadon mug"]


def test_unlisted_products_never_show(make_store, publish, root_api):
    store = make_store()
    publish(store, ("Tenmoku bowl", 3600, {"is_listed": False}), ("Bud vase", 1800))

    assert search(root_api, q="bowl")["count"] == 0
    assert titles(search(root_api, q="vase")) == ["Bud vase"]


def test_refusals_are_field_errors(root_api):
    assert root_api.get("/api/v1/marketplace/search", {"near": "Atlantis"}).json() == {
        "near": ["Unknown town or postcode 'Atlantis'."]
    }
    assert "lat" in root_api.get("/api/v1/marketplace/search", {"lat": 53.7}).json()
    assert "within_km" in root_api.get("/api/v1/marketplace/search", {"q": "x", "within_km": 5}).json()
    assert "max_price" in root_api.get("/api/v1/marketplace/search", {"min_price": 5, "max_price": 1}).json()


def test_pages_carry_count_and_links(make_store, publish, root_api):
    store = make_store()
    publish(store, *[(f"Candle number {n}", 100 + n) for n in range(5)])

    first = search(root_api, q="candle", page_size=2)
    last = search(root_api, q="candle", page_size=2, page=3)
    beyond = search(root_api, q="candle", page_size=2, page=4)

    assert (first["count"], len(first["results"]), first["previous"]) == (5, 2, None)
    assert "page=2" in first["next"]
    assert (last["count"], len(last["results"]), last["next"]) == (5, 1, None)
    assert (beyond["count"], beyond["results"]) == (5, [])


def test_search_costs_one_query(make_store, publish, root_api, django_assert_num_queries):
    store = make_store()
    publish(store, *[(f"Wool scarf {n}", 2000) for n in range(30)], postcode="HX7 8AD")
    search(root_api, q="scarf", near="HX7")  # warms the gazetteer and the host route

    with django_assert_num_queries(1):
        body = search(root_api, q="scaf", near="Hebden Bridge", page_size=20)

    assert (body["count"], len(body["results"])) == (30, 20)


def test_the_openapi_schema_documents_search_and_the_batch_api(root_api):
    schema = root_api.get("/api/schema/", {"format": "json"}).json()

    search_op = schema["paths"]["/api/v1/marketplace/search"]["get"]
    assert {p["name"] for p in search_op["parameters"]} >= {"q", "near", "lat", "lon", "category", "within_km"}
    # Public: no auth needed, a buyer's token optional (it lends the search the buyer's town)
    assert sorted(search_op["security"], key=len) == [{}, {"buyerAuth": []}] and not schema.get("security")
    assert "/api/v1/marketplace/listings/batch" in schema["paths"]
    hit = schema["components"]["schemas"]["ListingHit"]["properties"]
    assert {"title", "price", "currency", "store", "store_url", "product_url", "distance_km"} <= set(hit)
    assert {"thumbnail_url", "stock", "stock_status"} <= set(hit)
    assert {p["name"] for p in search_op["parameters"]} >= {"in_stock", "sort"}


def test_the_root_page_searches_with_a_place(make_store, publish, client):
    near = make_store(store_name="Calder Cheese")
    publish(near, ("Farmhouse Cheddar", 650), town="Hebden Bridge", postcode="HX7 8AD")

    page = client.get("/", {"q": "chedar", "near": "OL14 5AA"}, HTTP_HOST="localhost")
    unknown = client.get("/", {"q": "cheddar", "near": "Atlantis"}, HTTP_HOST="localhost")

    html = page.content.decode()
    assert page.status_code == 200
    assert "1 result near OL14 5AA" in html and "Farmhouse Cheddar" in html and "£6.50" in html
    assert "Calder Cheese" in html and "km away" in html and "/products/" in html
    assert "Unknown town or postcode" in unknown.content.decode()
