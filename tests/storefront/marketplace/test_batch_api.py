"""Dedicated stores publish through POST /api/v1/marketplace/listings/batch on the root host, with a
publishing token that can touch only its own store's listings; the client is the real drain."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from storefront.catalog.models import Product
from storefront.marketplace.models import Listing, PublishingToken
from storefront.marketplace.selectors import resolve_place
from storefront.marketplace.services import issue_publishing_token
from storefront.publishing.drain import drain_listing_changes
from storefront.publishing.publishers import ApiPublisher
from storefront.publishing.services import record_product_changes
from tests.conftest import ROOT_HOST
from tests.storefront.marketplace.conftest import search, titles

BATCH = "/api/v1/marketplace/listings/batch"


def post(client, token: str | None, body: dict):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(BATCH, body, format="json", **headers)


def batch(version: int, *listings: dict, withdrawn: tuple[int, ...] = (), town: str = "Todmorden") -> dict:
    return {"version": version, "seller": {"town": town}, "listings": list(listings), "withdrawn": list(withdrawn)}


def item(product_id: int, title: str, price: int = 1000, **fields) -> dict:
    return {"product_id": product_id, "title": title, "price": price, "currency": "GBP", **fields}


@pytest.mark.django_db
def test_a_token_publishes_upserts_and_withdrawals_for_its_own_store_only(make_store, root_api):
    mine = make_store()
    theirs = make_store()
    token = issue_publishing_token(mine.tenant)
    assert PublishingToken.objects.get(tenant=mine.tenant).key_hash != token  # kept hashed
    issue_publishing_token(theirs.tenant)
    Listing.objects.create(
        tenant=theirs.tenant,
        product_id=7,
        title="Their lamp",
        price=1,
        currency="GBP",
        product_path="/products/7/",
        source_version=1,
    )

    response = post(root_api, token, batch(5, item(7, "Brass lamp"), item(8, "Oak stool", tags=["furniture"])))

    assert response.status_code == 200, response.json()
    assert response.json() == {"received": 2, "changed": 2}
    assert Listing.objects.get(tenant=theirs.tenant, product_id=7).title == "Their lamp"  # untouched
    assert Listing.objects.get(tenant=mine.tenant, product_id=7).title == "Brass lamp"
    assert titles(search(root_api, q="stool furniture")) == ["Oak stool"]

    # A late, older batch changes nothing; a newer withdrawal removes the listing for good.
    assert post(root_api, token, batch(4, item(8, "Old stool title"))).json()["changed"] == 0
    assert post(root_api, token, batch(6, withdrawn=(8,))).json()["changed"] == 1
    assert post(root_api, token, batch(5, item(8, "Oak stool"))).json()["changed"] == 0
    assert search(root_api, q="stool")["count"] == 0


@pytest.mark.django_db
def test_the_batch_api_refuses_anyone_without_a_valid_token(make_store, root_api):
    store = make_store()
    staff_token = store.token  # a store member's API token is not a publishing token

    for token in (None, "lbp_not-a-token", staff_token):
        response = post(root_api, token, batch(1, item(1, "Sneaky listing")))
        # Never 403: with no valid publishing token the caller is unauthenticated, and the Bearer
        # challenge tells a dedicated store's drain its credential is wrong (it stops on HTTP 401).
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer"), token
    assert not Listing.objects.exists()


@pytest.mark.django_db
def test_a_batch_naming_a_product_twice_is_refused_whole(make_store, root_api):
    store = make_store()
    token = issue_publishing_token(store.tenant)

    response = post(root_api, token, batch(1, item(1, "A"), withdrawn=(1,)))

    assert response.status_code == 400
    assert not Listing.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_dedicated_drain_posts_through_the_real_http_api(make_store, live_server, committed_tenancy, root_api):
    # Given a store whose drain publishes by API (as a dedicated stack's does) against a live server
    store = make_store(town="Hebden Bridge", postcode="HX7 8AD")
    token = issue_publishing_token(store.tenant)
    port = live_server.url.rsplit(":", 1)[1]
    publisher = ApiPublisher(f"http://{ROOT_HOST}:{port}", token, timeout=10)
    with tenant_context(store.tenant):
        product = Product.objects.create(title="Tenmoku bowl", price=3600, sku="BOWL", status="active")
        record_product_changes([product.pk])

        # When its drain runs
        drained = drain_listing_changes(publisher=publisher)
        # Then the outbox is empty and the listing is on the platform
        assert drained == 1
        Product.objects.filter(pk=product.pk).update(status="archived")
        record_product_changes([product.pk])
        bad = ApiPublisher(f"http://{ROOT_HOST}:{port}", "lbp_wrong", timeout=10)
        with pytest.raises(Exception, match="HTTP 401"):
            drain_listing_changes(publisher=bad)
        from storefront.publishing.models import ListingChange

        assert ListingChange.objects.count() == 1  # a refused batch keeps its outbox rows
    connection.set_schema_to_public()
    listing = Listing.objects.get(tenant=store.tenant, product_id=product.pk)
    assert (listing.title, listing.is_listed, listing.seller_town) == ("Tenmoku bowl", True, "Hebden Bridge")
    place = resolve_place("HX7 8AD")  # the signup postcode crossed the API with the listing
    assert place is not None and (listing.lat, listing.lon) == (place.lat, place.lon)


@pytest.mark.django_db
def test_pictures_and_stock_cross_the_batch_api_and_older_batches_without_them_still_publish(make_store, root_api):
    store = make_store()
    token = issue_publishing_token(store.tenant)

    # A stack on an older release sends neither picture nor stock: listed, with neither shown
    assert post(root_api, token, batch(1, item(1, "Oak stool"))).status_code == 200
    old = search(root_api, q="stool")["results"][0]
    assert (old["thumbnail_url"], old["stock"], old["stock_status"]) == (None, None, None)
    # A newer one sends both; a path is on the store's host, a URL is kept as it is
    picture = "/media/t_store/products/2/images/5/268x200.webp"
    cdn = "https://cdn.example.com/products/3/268x200.webp"
    response = post(
        root_api,
        token,
        batch(
            2, item(2, "Oak bench", thumbnail_url=picture, stock=2), item(3, "Oak shelf", thumbnail_url=cdn, stock=0)
        ),
    )
    assert response.status_code == 200, response.json()
    rows = {row["title"]: row for row in search(root_api, q="oak")["results"]}
    assert rows["Oak bench"]["thumbnail_url"] == f"http://{store.tenant.slug}.{ROOT_HOST}{picture}"
    assert (rows["Oak bench"]["stock"], rows["Oak bench"]["stock_status"]) == (2, "low")
    assert (rows["Oak shelf"]["thumbnail_url"], rows["Oak shelf"]["stock_status"]) == (cdn, "sold_out")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"thumbnail_url": "javascript:alert(1)"},
        {"thumbnail_url": "//evil.example/x.webp"},
        {"thumbnail_url": '/media/x.webp" onerror="alert(1)'},
        {"stock": -1},
    ],
)
def test_a_picture_that_is_no_address_or_a_negative_stock_is_refused_whole(make_store, root_api, fields):
    store = make_store()
    token = issue_publishing_token(store.tenant)

    response = post(root_api, token, batch(1, item(1, "Oak stool", **fields)))

    assert response.status_code == 400 and set(response.json()) == {"listings"}
    assert not Listing.objects.exists()
