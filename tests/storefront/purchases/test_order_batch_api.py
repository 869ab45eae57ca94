"""Dedicated stores report their buyers' orders through POST /api/v1/purchases/orders/batch on the root host,
with the publishing token their listings use: a batch is recorded for the token's own store only, a
resent or older one changes nothing, and the client is the real drain of a store's outbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from storefront.marketplace.services import issue_publishing_token
from storefront.publishing.models import OrderChange
from storefront.publishing.order_history import ApiOrderPublisher, drain_order_changes
from storefront.publishing.publishers import PublishFailed
from storefront.purchases.models import BuyerOrder
from tests.conftest import ROOT_HOST
from tests.storefront.orders.conftest import add_product
from tests.storefront.purchases.conftest import history, move, outbox, place, seen

BATCH = "/api/v1/purchases/orders/batch"


def post(client: Any, token: str | None, body: dict[str, Any]) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(BATCH, body, format="json", **headers)


def order(version: int, buyer_id: int, status: str = "placed", **fields: Any) -> dict[str, Any]:
    return {
        "order_id": 7,
        "version": version,
        "buyer_id": buyer_id,
        "number": "000007",
        "status": status,
        "total": 2400,
        "currency": "GBP",
        "item_count": 2,
        "first_item_title": "Celadon mug",
        "placed_at": "2026-12-01T10:00:00Z",
        "updated_at": f"2026-12-01T10:{version:02d}:00Z",
        **fields,
    }


@pytest.mark.django_db
def test_a_token_records_its_own_stores_orders_and_a_resent_or_older_batch_changes_nothing(make_store, root_api, buyer):
    mine = make_store(store_name="Dedicated Pottery")
    token = issue_publishing_token(mine.tenant)
    buyer_id = buyer["buyer"]["id"]

    first = post(root_api, token, {"store": mine.tenant.slug, "orders": [order(5, buyer_id, "paid")]})

    assert first.status_code == 200, first.json()
    assert first.json() == {"received": 1, "changed": 1}
    assert seen(buyer["token"]) == [("Dedicated Pottery", "000007", "paid")]
    row = seen_row(buyer["token"])
    assert row["order_url"].endswith(f"//{mine.tenant.slug}.{ROOT_HOST}/orders/000007/")
    # Resent, older (a late "placed") and newer batches: only the newer one changes the order.
    assert post(root_api, token, {"store": mine.tenant.slug, "orders": [order(5, buyer_id, "paid")]}).json() == {
        "received": 1,
        "changed": 0,
    }
    assert post(root_api, token, {"store": mine.tenant.slug, "orders": [order(4, buyer_id)]}).json()["changed"] == 0
    assert seen(buyer["token"]) == [("Dedicated Pottery", "000007", "paid")]
    newer = post(root_api, token, {"store": mine.tenant.slug, "orders": [order(6, buyer_id, "shipped")]})
    assert newer.json()["changed"] == 1
    assert seen(buyer["token"]) == [("Dedicated Pottery", "000007", "shipped")]


def seen_row(token: str) -> dict[str, Any]:
    (row,) = history(token).json()["results"]
    return dict(row)


@pytest.mark.django_db
def test_the_batch_api_refuses_anyone_but_the_stores_own_token(make_store, root_api, buyer):
    mine, theirs = make_store(), make_store()
    issue_publishing_token(mine.tenant)
    their_token = issue_publishing_token(theirs.tenant)
    body = {"store": mine.tenant.slug, "orders": [order(1, buyer["buyer"]["id"])]}

    for token in (None, "lbp_not-a-token", mine.token, buyer["token"]):
        response = post(root_api, token, body)
        # With no valid publishing token the caller is unauthenticated (as on the listing batch API).
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer"), token
    wrong_store = post(root_api, their_token, body)

    assert wrong_store.status_code == 403
    assert wrong_store.json()["code"] == "wrong_store"
    assert not BuyerOrder.objects.exists()


@pytest.mark.django_db
def test_a_batch_with_a_bad_order_is_refused_whole(make_store, root_api, buyer):
    store = make_store()
    token = issue_publishing_token(store.tenant)
    good, bad = order(1, buyer["buyer"]["id"]), order(2, buyer["buyer"]["id"], status="lost", order_id=8)

    response = post(root_api, token, {"store": store.tenant.slug, "orders": [good, bad]})

    assert response.status_code == 400
    assert response.json()["orders"] == {"1": {"status": ["'lost' is not an order status."]}}  # by index
    assert not BuyerOrder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_dedicated_drain_posts_through_the_real_http_api(make_store, live_server, committed_tenancy, buyer):
    # Given a store whose order drain posts by API (as a dedicated stack's does) against a live server
    store = make_store(store_name="Dedicated Pottery")
    other = make_store()
    token = issue_publishing_token(store.tenant)
    port = live_server.url.rsplit(":", 1)[1]
    base = f"http://{ROOT_HOST}:{port}"
    bowl = add_product(store, price=3600, title="Tenmoku bowl")
    placed = place(store, buyer, (bowl, 1))
    assert move(store, placed["id"], "paid").status_code == 200

    with tenant_context(store.tenant):
        # When the drain runs with a wrong token, or another store's, the platform refuses and the rows stay
        for publisher, answer in (
            (ApiOrderPublisher(base, "lbp_wrong", store.tenant.slug, timeout=10), "HTTP 401"),
            (ApiOrderPublisher(base, issue_publishing_token(other.tenant), store.tenant.slug, timeout=10), "HTTP 403"),
        ):
            with pytest.raises(PublishFailed, match=answer):
                drain_order_changes(publisher=publisher)
            assert OrderChange.objects.count() == 2

        # And with its own token both changes cross the API
        assert drain_order_changes(publisher=ApiOrderPublisher(base, token, store.tenant.slug, timeout=10)) == 2
    connection.set_schema_to_public()

    assert outbox(store) == []
    assert seen(buyer["token"]) == [("Dedicated Pottery", placed["number"], "paid")]
