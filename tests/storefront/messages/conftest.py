"""Fixtures of the messages tests: a store with a product on sale, buyers with their API clients on the
store host, the store's staff API, and images to attach."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image
from rest_framework.test import APIClient

from onboarding.services import SignupResult
from tenants.accounts.services import add_staff_member, issue_api_token
from tests.conftest import STRONG_PASSWORD, store_api
from tests.storefront.orders.conftest import add_product, buyer, make_buyer, shop

__all__ = ["buyer", "make_buyer"]


@pytest.fixture
def product(store: SignupResult) -> int:
    return add_product(store, stock=5)


@pytest.fixture
def buyer_api(store: SignupResult, buyer: dict[str, Any]) -> APIClient:
    return shop(store, buyer)


@pytest.fixture
def seller_api(store: SignupResult) -> APIClient:
    return store_api(store.tenant.slug, store.token)


def staff_member_api(store: SignupResult, email: str = "helper@example.com") -> APIClient:
    """A staff member (not the owner) of `store`, with their own token."""
    with tenant_context(store.tenant):
        user = add_staff_member(email, STRONG_PASSWORD)
        token = issue_api_token(user)
    return store_api(store.tenant.slug, token)


def photo(*, size: tuple[int, int] = (64, 48), kind: str = "JPEG", gps: bool = False) -> SimpleUploadedFile:
    """An image as a phone sends it; with `gps`, EXIF carrying a position."""
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (200, 120, 40))
    extra: dict[str, Any] = {}
    if gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (53.0, 42.0, 0.0), 3: "W", 4: (2.0, 6.0, 0.0)}
        exif[0x010F] = "PhoneMaker"
        extra["exif"] = exif
    image.save(buffer, format=kind, **extra)
    return SimpleUploadedFile(f"photo.{kind.lower()}", buffer.getvalue(), content_type=f"image/{kind.lower()}")


@pytest.fixture
def write(buyer_api: APIClient, product: int) -> Callable[..., Any]:
    """`write("body")`: the buyer's message about the product, over the API."""
    return lambda body="Is this still available?", **extra: buyer_api.post(
        "/api/v1/messages", {"body": body, "product": product, **extra}, format="json"
    )
