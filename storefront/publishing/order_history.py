"""A store's side of buyers' order history across stores: each placed order and status change of a signed-in
buyer's order written to the store's outbox in the order's own transaction (`record_order_change`, called by
storefront.orders.services, the one writer of an order's status), and drained into the platform's index
(storefront.purchases) by a Celery task queued on commit and retried by the beat sweep. Guests' orders have
no account to show them in, and are not recorded.

Where a drained batch goes follows MARKETPLACE_PUBLISHER, as listings do: `index` (shared tenancy) writes it
in the drain's own transaction, so the outbox rows and the index commit together; `api` (a dedicated stack)
POSTs it to the root host's batch API with the store's publishing token, and the rows are deleted only after
a 2xx. Each row carries its version (its id), so a batch resent or drained out of order changes nothing newer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Protocol

from django.conf import settings
from django.db import transaction

from storefront.orders.models import Order, OrderLine
from storefront.publishing.models import OrderChange
from storefront.publishing.publishers import api_settings, post_batch
from storefront.publishing.services import store_identity
from storefront.purchases import services as purchases
from storefront.purchases.services import OrderSummary
from tenants.db_backend import connection
from tenants.task_queue import enqueue

logger = logging.getLogger(__name__)
BATCH_PATH = "/api/v1/purchases/orders/batch"
DRAIN_TASK = "publishing.drain_order_changes"


def record_order_change(order: Order, items: Iterable[tuple[str, int]] | None = None) -> None:
    """Record `order` as it is now (just placed, or just moved) for its buyer's history, in the caller's
    transaction, and queue a drain once it commits. `items` are its lines' (title, quantity) in line order,
    when the caller has them; else they are read."""
    if order.buyer_id is None:
        return
    if items is None:
        items = OrderLine.objects.filter(order_id=order.pk).order_by("id").values_list("title", "quantity")
    lines = list(items)
    OrderChange.objects.create(
        order_id=order.pk,
        buyer_id=order.buyer_id,
        number=order.number,
        status=order.status,
        total=order.total,
        currency=order.currency,
        item_count=sum(quantity for _, quantity in lines),
        first_item_title=lines[0][0] if lines else "",
        placed_at=order.created_at,
        updated_at=order.updated_at,
    )
    tenant_id, schema = store_identity()
    purchases.mark_pending(tenant_id, schema)
    transaction.on_commit(lambda: queue_order_drain(schema))


def queue_order_drain(schema: str) -> None:
    try:
        enqueue(DRAIN_TASK, headers={"_schema_name": schema})
    except Exception:  # noqa: BLE001 - the broker being down must not fail a committed order; the sweep retries
        logger.exception("could not queue the order history drain of %s", schema)


class OrderHistoryPublisher(Protocol):
    def publish(self, tenant_id: int, summaries: Sequence[OrderSummary]) -> None: ...


class IndexOrderPublisher:
    def publish(self, tenant_id: int, summaries: Sequence[OrderSummary]) -> None:
        purchases.record_buyer_orders(tenant_id, summaries)


class ApiOrderPublisher:
    """The batch names the store by slug (the same on the platform and its stack): the platform refuses a
    batch whose token is another store's."""

    def __init__(self, base_url: str, token: str, store: str, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + BATCH_PATH
        self.token = token
        self.store = store
        self.timeout = timeout

    def publish(self, tenant_id: int, summaries: Sequence[OrderSummary]) -> None:
        payload: dict[str, object] = {"store": self.store, "orders": [summary.as_row() for summary in summaries]}
        post_batch(self.url, self.token, payload, self.timeout)


def configured_order_publisher() -> OrderHistoryPublisher:
    kind = settings.MARKETPLACE_PUBLISHER
    if kind == "index":
        return IndexOrderPublisher()
    if kind == "api":
        return ApiOrderPublisher(*api_settings(), store=connection.tenant.slug)
    raise ValueError(f"unknown MARKETPLACE_PUBLISHER {kind!r}: use 'index' or 'api'")


def drain_order_changes(publisher: OrderHistoryPublisher | None = None, batch_size: int | None = None) -> int:
    """Hand every pending order change of the store the connection is in to the index, oldest first, in
    batches of one transaction each; returns how many rows drained. A worker killed mid-batch rolls all of
    it back (rows, pending flag and, for the index publisher, the index rows)."""
    publisher = publisher or configured_order_publisher()
    batch_size = batch_size or settings.MARKETPLACE_DRAIN_BATCH_SIZE
    tenant_id, schema = store_identity()
    drained = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # One drain per store at a time (versions make concurrent ones safe, only wasteful).
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('publishing.order_drain'), hashtext(current_schema()))"
                )
            # Cleared before claiming: an order committing meanwhile either is claimed here or flags again.
            purchases.clear_pending(tenant_id)
            claimed = list(OrderChange.objects.select_for_update(skip_locked=True).order_by("id")[:batch_size])
            if not claimed:
                return drained
            publisher.publish(tenant_id, [summary_of(change) for change in claimed])
            OrderChange.objects.filter(id__in=[change.pk for change in claimed]).delete()
            if len(claimed) == batch_size:
                purchases.mark_pending(tenant_id, schema)
        drained += len(claimed)
        if len(claimed) < batch_size:
            return drained


def summary_of(change: OrderChange) -> OrderSummary:
    return OrderSummary(
        order_id=change.order_id,
        version=change.pk,
        buyer_id=change.buyer_id,
        number=change.number,
        status=change.status,
        total=change.total,
        currency=change.currency,
        item_count=change.item_count,
        first_item_title=change.first_item_title,
        placed_at=change.placed_at,
        updated_at=change.updated_at,
    )
