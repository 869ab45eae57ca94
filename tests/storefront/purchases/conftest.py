"""Fixtures of buyers' order history: buyers ordering over the stores' APIs, staff moving orders, a store's
order outbox drained as its Celery task would, and the buyer's history read over the root host's API."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from onboarding.services import SignupResult
from storefront.publishing.models import OrderChange
from storefront.publishing.order_history import drain_order_changes
from tests.conftest import ROOT_HOST, store_api
from tests.storefront.orders.conftest import buyer, fill_cart, make_buyer, shop

__all__ = ["buyer", "make_buyer"]
HISTORY = "/api/v1/buyers/me/orders"
PICKUP = {"fulfilment": "pickup", "payment": "local"}


def place(store: SignupResult, buyer: dict[str, Any], *items: tuple[int, int]) -> dict[str, Any]:
    """The buyer checks out these (product, quantity) in the store, over its API; returns the order."""
    client = shop(store, buyer)
    fill_cart(client, *items)
    response = client.post("/api/v1/checkout", PICKUP, format="json")
    assert response.status_code == 201, response.content
    return dict(response.json()["order"])


def move(store: SignupResult, order_id: int, to: str) -> Any:
    """The store's owner moves the order, over the store's API."""
    return store_api(store.tenant.slug, store.token).post(
        f"/api/v1/orders/{order_id}/transition", {"to": to}, format="json"
    )


def drain(store: SignupResult, **options: Any) -> int:
    with tenant_context(store.tenant):
        drained = drain_order_changes(**options)
    connection.set_schema_to_public()
    return drained


def outbox(store: SignupResult) -> list[tuple[str, str]]:
    """(number, status) of the store's order changes not drained yet, oldest first."""
    with tenant_context(store.tenant):
        rows = list(OrderChange.objects.values_list("number", "status"))
    connection.set_schema_to_public()
    return rows


def history(token: str | None, **params: Any) -> Any:
    client = APIClient(HTTP_HOST=ROOT_HOST)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(HISTORY, params)


def seen(token: str, **params: Any) -> list[tuple[str, str, str]]:
    """(store name, order number, status) of the buyer's history, as listed."""
    response = history(token, **params)
    assert response.status_code == 200, response.content
    return [(row["store_name"], row["number"], row["status"]) for row in response.json()["results"]]
