"""The merchant dashboard's home: only the store's members get in; it shows orders to prepare, unread
messages, products running low, the plan's next bill and the setup still to do."""

from __future__ import annotations

import pytest

from tests.conftest import STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser, admin_browser
from tests.storefront.orders.conftest import add_product, buyer, fill_cart, make_buyer, shop

pytestmark = pytest.mark.django_db
__all__ = ["buyer", "make_buyer"]


def html(response) -> str:
    return response.content.decode()


def test_a_visitor_is_sent_to_the_stores_login_and_another_stores_owner_is_refused(store, make_store) -> None:
    visitor = SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))
    answer = visitor.get("/dashboard/")
    assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/?next=/dashboard/")

    other = make_store()
    intruder = SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))
    # Their login is their own store's: here it is no login at all
    intruder.post("/admin/login/", {"username": other.owner.email, "password": STRONG_PASSWORD})
    assert intruder.get("/dashboard/").status_code == 302


def test_the_home_shows_what_needs_doing_today(store, buyer) -> None:
    low = add_product(store, stock=3, title="Rye loaf")
    add_product(store, stock=50, title="Flour")
    client = shop(store, buyer)
    fill_cart(client, (low, 1))
    placed = client.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json", HTTP_IDEMPOTENCY_KEY="a"
    )
    assert placed.status_code == 201
    client.post("/api/v1/messages", {"body": "Is the rye seeded?", "product": low}, format="json")

    page = html(admin_browser(store).get("/dashboard/"))

    assert f"Order {placed.json()['order']['number']}" in page
    assert "<strong>1 unread</strong>" in page
    assert "Rye loaf" in page and "2 left" in page and "Flour" not in page
    assert "next bill" in page
    assert "Tell buyers your story" in page and "Connect payouts" in page and "Add your first product" not in page
    assert 'aria-current="page"' in page and "<svg" in page
