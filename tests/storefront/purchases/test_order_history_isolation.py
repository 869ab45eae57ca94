"""Buyers' order history, attacked: one buyer's token or session never lists another buyer's orders (even
where both ordered in the same stores, or two stores used the same order id), and no credential but a buyer's own
token reads it: a store's staff token, a publishing token or the platform's staff are refused."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from storefront.marketplace.services import issue_publishing_token
from storefront.publishing.models import OrderChange
from storefront.publishing.order_history import summary_of
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, store_api, token_for
from tests.storefront.conftest import SchemaKeepingBrowser
from tests.storefront.orders.conftest import add_product
from tests.storefront.purchases.conftest import HISTORY, drain, history, place, seen
from tests.storefront.purchases.test_order_batch_api import BATCH

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_buyers_in_two_stores(make_store, make_buyer):
    alpha = make_store(store_name="Alpha Stores", subdomain="alpha")
    beta = make_store(store_name="Beta Stores", subdomain="beta")
    ada, bob = make_buyer(), make_buyer()
    orders = {"ada": [], "bob": []}
    turns = [("ada", ada, "Ada's quince jam"), ("bob", bob, "Bob's heather honey")]
    for store, buyers in ((alpha, turns), (beta, turns[::-1])):
        for name, who, title in buyers:
            product = add_product(store, title=title)
            orders[name].append((store.tenant.name, place(store, who, (product, 1))["number"], "placed"))
        drain(store)
    return alpha, beta, ada, bob, orders


def test_a_buyers_token_lists_their_own_orders_and_never_anothers(two_buyers_in_two_stores):
    _, _, ada, bob, orders = two_buyers_in_two_stores

    assert sorted(seen(ada["token"])) == sorted(orders["ada"])
    assert sorted(seen(bob["token"])) == sorted(orders["bob"])
    # Naming the other buyer in the query changes nothing: the token alone says whose history it is.
    assert sorted(seen(ada["token"], buyer_id=bob["buyer"]["id"], buyer=bob["buyer"]["id"])) == sorted(orders["ada"])
    assert "heather honey" not in history(ada["token"]).content.decode()


def test_only_a_buyers_own_token_reads_a_history(two_buyers_in_two_stores, staff_user):
    alpha, _, ada, _, _ = two_buyers_in_two_stores
    platform_staff = token_for(APIClient(HTTP_HOST=ROOT_HOST), staff_user.email)

    for token in (None, alpha.token, issue_publishing_token(alpha.tenant), platform_staff, "lbb_not-a-token"):
        response = history(token)
        assert response.status_code == 401, token
        assert b"quince" not in response.content and b"results" not in response.content
    # On a store's host there is no such route: the history is the marketplace's, served by the root only.
    assert store_api(alpha.tenant.slug, ada["token"]).get(HISTORY).status_code == 404


def test_the_your_orders_page_shows_the_signed_in_buyers_orders_only(two_buyers_in_two_stores):
    _, _, ada, bob, orders = two_buyers_in_two_stores
    browser = SchemaKeepingBrowser(HTTP_HOST=ROOT_HOST)
    browser.post("/buyers/sign-in/", {"email": ada["buyer"]["email"], "password": STRONG_PASSWORD})

    html = browser.get("/buyers/orders/", {"buyer_id": bob["buyer"]["id"]}).content.decode()

    assert html.count("Ada&#x27;s quince jam") == 2
    assert "heather honey" not in html


def test_the_same_order_id_in_two_stores_is_two_buyers_orders(make_store, make_buyer, root_api):
    # Given two dedicated stores whose stacks both number an order 7, one Ada's, the other Bob's
    ada, bob = make_buyer(), make_buyer()
    for who, title in ((ada, "Ada's quince jam"), (bob, "Bob's heather honey")):
        store = make_store()
        change = OrderChange(
            pk=7,
            order_id=7,
            buyer_id=who["buyer"]["id"],
            number="000007",
            status="placed",
            total=300,
            currency="GBP",
            item_count=1,
            first_item_title=title,
            placed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        batch = {"store": store.tenant.slug, "orders": [summary_of(change).as_row()]}
        token = issue_publishing_token(store.tenant)
        assert root_api.post(BATCH, batch, format="json", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    # Then each sees their own order 7, and only theirs
    assert [row["first_item_title"] for row in history(ada["token"]).json()["results"]] == ["Ada's quince jam"]
    assert [row["first_item_title"] for row in history(bob["token"]).json()["results"]] == ["Bob's heather honey"]
