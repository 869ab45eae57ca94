"""Writing buyers' order history: a store's batch of order summaries (from its outbox drain, or the batch API
a dedicated store's stack posts to), and the pending flags the beat sweep follows.

A batch is one upsert statement. Every summary carries its version (the store's outbox row id, higher for
each later change of the order) and only a higher version overwrites a row, so a replayed, late or
reordered batch never puts an older status over a newer one: every order of every store converges on its
latest change, whatever order the drains ran in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from storefront.buyers.models import Buyer
from storefront.purchases.models import BuyerOrder, PendingOrderChanges
from tenants.db_backend import connection
from tenants.models import Tenant
from tenants.task_queue import enqueue

TITLE_MAX = 200
_BUYERS_TABLE = f'"{Buyer._meta.db_table}"'


@dataclass(frozen=True)
class OrderSummary:
    """An order of a signed-in buyer as its store reports it, at `version`."""

    order_id: int
    version: int
    buyer_id: int
    number: str
    status: str
    total: int
    currency: str
    item_count: int
    first_item_title: str
    placed_at: datetime
    updated_at: datetime

    def as_row(self) -> dict[str, object]:
        return {
            "order_id": self.order_id,
            "version": self.version,
            "buyer_id": self.buyer_id,
            "number": self.number,
            "status": self.status,
            "total": self.total,
            "currency": self.currency,
            "item_count": self.item_count,
            "first_item_title": self.first_item_title[:TITLE_MAX],
            "placed_at": self.placed_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def latest_per_order(summaries: Iterable[OrderSummary]) -> list[OrderSummary]:
    """The newest summary of each order, by order id: one statement may touch a row only once, and an
    older change of an order in the same batch would be overwritten anyway."""
    latest: dict[int, OrderSummary] = {}
    for summary in summaries:
        kept = latest.get(summary.order_id)
        if kept is None or summary.version > kept.version:
            latest[summary.order_id] = summary
    return [latest[order_id] for order_id in sorted(latest)]


_UPSERT = """
WITH batch AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
        order_id bigint, version bigint, buyer_id bigint, number text, status text, total bigint, currency text,
        item_count integer, first_item_title text, placed_at timestamptz, updated_at timestamptz)
)
INSERT INTO purchases_buyerorder AS o (
    tenant_id, order_id, buyer_id, number, status, total, currency, item_count, first_item_title, placed_at,
    updated_at, source_version, indexed_at)
SELECT %(tenant_id)s, b.order_id, b.buyer_id, b.number, b.status, b.total, b.currency, b.item_count,
       b.first_item_title, b.placed_at, b.updated_at, b.version, now()
  FROM batch b
 -- A closed account keeps no history: a store's later report of one of its orders adds nothing back.
 WHERE EXISTS (SELECT 1 FROM public.{buyers} a WHERE a.id = b.buyer_id AND a.is_active)
ORDER BY b.order_id
ON CONFLICT (tenant_id, order_id) DO UPDATE SET
    buyer_id = EXCLUDED.buyer_id,
    number = EXCLUDED.number,
    status = EXCLUDED.status,
    total = EXCLUDED.total,
    currency = EXCLUDED.currency,
    item_count = EXCLUDED.item_count,
    first_item_title = EXCLUDED.first_item_title,
    placed_at = EXCLUDED.placed_at,
    updated_at = EXCLUDED.updated_at,
    source_version = EXCLUDED.source_version,
    indexed_at = EXCLUDED.indexed_at
WHERE o.source_version < EXCLUDED.source_version
"""


def record_buyer_orders(tenant_id: int, summaries: Iterable[OrderSummary]) -> int:
    """Write a store's batch of order summaries; returns how many rows changed (older or replayed versions
    change nothing). Runs in the caller's transaction when there is one (the outbox drain's)."""
    rows = [summary.as_row() for summary in latest_per_order(summaries)]
    if not rows:
        return 0
    with connection.cursor() as cursor:
        upsert = _UPSERT.format(buyers=_BUYERS_TABLE)
        cursor.execute(upsert, {"rows": json.dumps(rows), "tenant_id": tenant_id})
        return int(cursor.rowcount)


def mark_pending(tenant_id: int, schema_name: str) -> None:
    """Flag a store as having order changes to drain (in the caller's transaction). An update, not a no-op,
    when the flag is there: the drain's clearing then waits for this transaction, and sees its outbox row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO purchases_pendingorderchanges (tenant_id, schema_name, marked_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (tenant_id) DO UPDATE SET marked_at = EXCLUDED.marked_at",
            [tenant_id, schema_name],
        )


def forget_buyer(buyer_id: int) -> None:
    """A closed account's order history is deleted (in the closing transaction), and each shared store it bought
    from is asked, once that commits, to take the buyer's name and address off its orders and threads."""
    history = BuyerOrder.objects.filter(buyer_id=buyer_id)
    schemas = sorted(
        set(
            history.filter(tenant__tenancy=Tenant.Tenancy.SHARED, tenant__status=Tenant.Status.ACTIVE).values_list(
                "tenant__schema_name", flat=True
            )
        )
    )
    history.delete()
    for schema in schemas:
        headers = {"_schema_name": schema}
        transaction.on_commit(
            lambda headers=headers: enqueue("purchases.anonymise_closed_buyer", buyer_id, headers=headers)  # type: ignore[misc]
        )


def clear_pending(tenant_id: int) -> None:
    PendingOrderChanges.objects.filter(tenant_id=tenant_id).delete()
