"""Marketplace fixtures: stores in known towns and listings published straight into the index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest
from django.db import connection

from onboarding.services import SignupResult
from storefront.marketplace.services import ListingRecord, Seller, publish_listings

_versions = count(1)
_product_ids = count(1000)


@pytest.fixture(autouse=True)
def _public_schema() -> Iterator[None]:
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def publish() -> Callable[..., list[int]]:
    """Publish listings for a store as its drain would: publish(store, ("Cheddar", 450), ..., town=...)."""

    def run(store: SignupResult, *items: Any, town: str = "", postcode: str = "", **fields: Any) -> list[int]:
        records = []
        for item in items:
            title, price = item[:2]
            extra = item[2] if len(item) > 2 else {}
            records.append(
                ListingRecord(
                    product_id=extra.pop("product_id", next(_product_ids)),
                    title=title,
                    price=price,
                    currency="GBP",
                    **{**fields, **extra},
                )
            )
        publish_listings(store.tenant.pk, next(_versions), records, Seller(town=town, postcode=postcode))
        return [record.product_id for record in records]

    return run


def search(client: Any, **params: Any) -> Any:
    response = client.get("/api/v1/marketplace/search", params)
    assert response.status_code == 200, response.content
    return response.json()


def titles(body: dict[str, Any]) -> list[str]:
    return [row["title"] for row in body["results"]]
