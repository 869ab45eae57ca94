"""Reading a buyer's order history: their orders in every store, newest first, from the index in `public`
(two queries a page, whatever the number of stores)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storefront.orders.models import Order
from storefront.purchases.models import BuyerOrder
from tenants.routing import store_url

ORDER_PATH = "orders/{number}/"
_STATUS_LABELS = dict(Order.Status.choices)


@dataclass(frozen=True)
class OrderHistoryEntry:
    store: str
    store_name: str
    store_url: str
    order_url: str
    number: str
    status: str
    status_label: str
    total: int
    currency: str
    item_count: int
    first_item_title: str
    placed_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderHistoryPage:
    count: int
    results: list[OrderHistoryEntry]


def buyer_order_history(buyer_id: int, *, limit: int, offset: int = 0) -> OrderHistoryPage:
    """The buyer's orders, newest first, each with its store and its page on the store's host."""
    orders = BuyerOrder.objects.filter(buyer_id=buyer_id)
    count = orders.count()
    rows = orders.select_related("tenant").order_by("-placed_at", "-id")[offset : offset + limit] if count else []
    results = []
    for row in rows:
        base = store_url(row.tenant.slug)
        results.append(
            OrderHistoryEntry(
                store=row.tenant.slug,
                store_name=row.tenant.name,
                store_url=base,
                order_url=base + ORDER_PATH.format(number=row.number),
                number=row.number,
                status=row.status,
                status_label=_STATUS_LABELS.get(row.status, row.status),
                total=row.total,
                currency=row.currency,
                item_count=row.item_count,
                first_item_title=row.first_item_title,
                placed_at=row.placed_at,
                updated_at=row.updated_at,
            )
        )
    return OrderHistoryPage(count=count, results=results)
