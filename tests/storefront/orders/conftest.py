"""Fixtures of the selling tests: buyers signed up over the root host's API, products made by the
store's staff over the store's API, and API clients for a buyer on a store host."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from onboarding.services import SignupResult
from tests.conftest import STRONG_PASSWORD, store_api

_buyers = itertools.count(1)
_skus = itertools.count(1)


def sign_up_buyer(root_api: APIClient, email: str | None = None) -> dict[str, Any]:
    email = email or f"buyer{next(_buyers)}@example.com"
    response = root_api.post(
        "/api/v1/buyers", {"email": email, "password": STRONG_PASSWORD, "name": "Ada Buyer"}, format="json"
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


@pytest.fixture
def make_buyer(root_api: APIClient) -> Callable[..., dict[str, Any]]:
    return lambda email=None: sign_up_buyer(root_api, email)


@pytest.fixture
def buyer(make_buyer: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_buyer()


def add_product(store: SignupResult, *, stock: int = 10, price: int = 250, status: str = "active", **extra: Any) -> int:
    body = {"title": f"Loaf {next(_skus)}", "price": price, "stock": stock, "status": status, **extra}
    body.setdefault("sku", f"SKU-{next(_skus)}")
    response = store_api(store.tenant.slug, store.token).post("/api/v1/products", body, format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def shop(store: SignupResult, buyer: dict[str, Any]) -> APIClient:
    """A buyer's API client on the store's host."""
    return store_api(store.tenant.slug, buyer["token"])


def fill_cart(client: APIClient, *items: tuple[int, int]) -> None:
    for product, quantity in items:
        response = client.post("/api/v1/cart/items", {"product": product, "quantity": quantity}, format="json")
        assert response.status_code == 201, response.content


@pytest.fixture
def in_store_of() -> Callable[[SignupResult], Any]:
    """`with in_store_of(store):` runs the test's own ORM calls in the store's schema."""
    from django_tenants.utils import tenant_context

    return lambda store: tenant_context(store.tenant)
