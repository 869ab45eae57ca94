"""Recording catalog changes for the marketplace, in the transaction that makes them.

The catalog calls `record_product_changes` (a product created, edited, archived, deleted or imported)
and `record_seller_moved` (the seller profile's town or postcode changed: every product republished).
Each writes outbox rows and flags the store as pending in `public`, in the caller's transaction, and
queues a drain once that transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from storefront.marketplace import services as marketplace
from storefront.publishing.models import ListingChange
from tenants.db_backend import connection
from tenants.task_queue import enqueue

logger = logging.getLogger(__name__)


def store_identity() -> tuple[int, str]:
    """(tenant id, schema) of the store the connection is in; a dedicated stack is its own tenant 0."""
    tenant = getattr(connection, "tenant", None)
    tenant_id = getattr(tenant, "pk", None) or 0
    return int(tenant_id), connection.schema_name


def record_product_changes(product_ids: Iterable[int]) -> None:
    ids = sorted({int(pk) for pk in product_ids})
    if not ids:
        return
    with transaction.atomic():
        ListingChange.objects.bulk_create([ListingChange(product_id=pk) for pk in ids])
        _flag_pending()


def record_seller_moved() -> None:
    """Every product's listing carries the seller's place: republish them all."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO publishing_listingchange (product_id, created_at) SELECT id, now() FROM catalog_product"
            )
        _flag_pending()


def _flag_pending() -> None:
    tenant_id, schema = store_identity()
    marketplace.mark_pending(tenant_id, schema)
    transaction.on_commit(lambda: queue_drain(schema))


def queue_drain(schema: str) -> None:
    try:
        enqueue("publishing.drain_listing_changes", headers={"_schema_name": schema})
    except Exception:  # noqa: BLE001 - the broker being down must not fail a committed change; the sweep retries
        logger.exception("could not queue the marketplace drain of %s", schema)
