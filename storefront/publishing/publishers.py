"""Where a store's drained listings go, picked by MARKETPLACE_PUBLISHER:

- `index` (shared tenancy, the default): straight into the `public` listing index, in the drain's own
  transaction, so the outbox rows and the listings commit together.
- `api` (dedicated tenancy's default): POSTed to the platform's batch API on the root host with the
  store's publishing token; the outbox rows are deleted only after the platform answered 2xx, and a
  resent batch changes nothing there (same version).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from django.conf import settings

from storefront.marketplace import services as marketplace
from storefront.marketplace.services import ListingRecord, Seller
from tenants.platform_calls import PlatformRefused, PlatformUnreachable, post_json

BATCH_PATH = "/api/v1/marketplace/listings/batch"


class PublishFailed(Exception):
    """The batch was not accepted; the outbox rows stay for the next drain."""


class ListingPublisher(Protocol):
    def publish(self, tenant_id: int, version: int, records: Sequence[ListingRecord], seller: Seller) -> None: ...


class IndexPublisher:
    def publish(self, tenant_id: int, version: int, records: Sequence[ListingRecord], seller: Seller) -> None:
        marketplace.publish_listings(tenant_id, version, records, seller)


def batch_payload(version: int, records: Sequence[ListingRecord], seller: Seller) -> dict[str, object]:
    """The batch API's request body (see storefront.marketplace.serializers.ListingBatchSerializer)."""
    listings = []
    withdrawn = []
    for record in records:
        if record.is_listed or record.title:
            row = record.as_row()
            row.pop("product_path")
            listings.append(row)
        else:
            withdrawn.append(record.product_id)
    return {
        "version": version,
        "seller": {"town": seller.town, "postcode": seller.postcode},
        "listings": listings,
        "withdrawn": withdrawn,
    }


class ApiPublisher:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + BATCH_PATH
        self.token = token
        self.timeout = timeout

    def publish(self, tenant_id: int, version: int, records: Sequence[ListingRecord], seller: Seller) -> None:
        post_batch(self.url, self.token, batch_payload(version, records, seller), self.timeout)


def post_batch(url: str, token: str, payload: dict[str, object], timeout: float) -> None:
    """POST a batch to the platform with the store's publishing token; PublishFailed unless it answered 2xx."""
    try:
        post_json(url, token, payload, timeout=timeout)
    except PlatformRefused as error:
        raise PublishFailed(f"the marketplace refused the batch: {error}") from error
    except PlatformUnreachable as error:
        raise PublishFailed(f"the marketplace is unreachable: {error}") from error


def configured_publisher() -> ListingPublisher:
    kind = settings.MARKETPLACE_PUBLISHER
    if kind == "index":
        return IndexPublisher()
    if kind == "api":
        return ApiPublisher(*api_settings())
    raise ValueError(f"unknown MARKETPLACE_PUBLISHER {kind!r}: use 'index' or 'api'")


def api_settings() -> tuple[str, str]:
    """(MARKETPLACE_API_URL, MARKETPLACE_PUBLISHING_TOKEN): where and as which store an `api` publisher posts."""
    if not (settings.MARKETPLACE_API_URL and settings.MARKETPLACE_PUBLISHING_TOKEN):
        raise PublishFailed("MARKETPLACE_API_URL and MARKETPLACE_PUBLISHING_TOKEN must be set to publish by API")
    return settings.MARKETPLACE_API_URL, settings.MARKETPLACE_PUBLISHING_TOKEN
