"""What the dashboard's Orders section reads: a tab's orders newest first, a page at a time by keyset (a page
costs the same at the thousandth order as at the first, with no count over every order), the tabs' counts,
and one order with its lines and history in the merchant's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from storefront.orders import selectors
from storefront.orders.models import Order

Status = Order.Status
PAGE_SIZE = 25
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...]  # empty: every order


TABS = (
    Tab("prepare", "To prepare", (Status.PLACED, Status.PAID)),
    Tab("ready", "Ready", (Status.READY_FOR_PICKUP,)),
    Tab("all", "All", ()),
)
DEFAULT_TAB = TABS[0]


def tab_named(key: str) -> Tab:
    return next((tab for tab in TABS if tab.key == key), DEFAULT_TAB)


@dataclass(frozen=True)
class OrdersPage:
    orders: list[Order]
    next_cursor: str  # "" on the last page


def cursor_of(order: Order) -> str:
    """Where the page after `order` starts: its creation time (whole microseconds) and id."""
    return f"{(order.created_at - EPOCH) // MICROSECOND}.{order.pk}"


def parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    micros, _, pk = cursor.partition(".")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    return EPOCH + int(micros) * MICROSECOND, int(pk)


def orders_page(tab: Tab, cursor: str = "") -> OrdersPage:
    """The tab's orders newest first, from after `cursor` (the first page when it is empty or unreadable)."""
    queryset = Order.objects.only("id", "number", "name", "email", "total", "currency", "status", "created_at")
    if tab.statuses:
        queryset = queryset.filter(status__in=tab.statuses)
    after = parse_cursor(cursor)
    if after is not None:
        created_at, pk = after
        queryset = queryset.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))
    rows = list(queryset.order_by("-created_at", "-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return OrdersPage(rows, cursor_of(rows[-1]) if more else "")


def tab_counts() -> dict[str, int]:
    """How many orders wait in each tab that has a status (one query over the status index)."""
    waiting = {status for tab in TABS for status in tab.statuses}
    per_status = dict(
        Order.objects.filter(status__in=waiting).values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {tab.key: sum(per_status.get(status, 0) for status in tab.statuses) for tab in TABS if tab.statuses}


def order_page(order_id: int) -> dict[str, Any] | None:
    """One order with its lines and history (statuses as the merchant reads them); None if there is none."""
    order = Order.objects.prefetch_related("lines", "events").filter(pk=order_id).first()
    if order is None:
        return None
    labels = dict(Status.choices)
    history = [
        {
            **event,
            "from": labels.get(event["from"], event["from"]),
            "to": labels.get(event["to"], event["to"]),
            "at": datetime.fromisoformat(event["at"]),
        }
        for event in selectors.order_history(order)
    ]
    address = [order.address.get(part, "") for part in ("name", "line1", "line2", "town", "postcode", "country")]
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "history": history,
        "address": [part for part in address if part],
    }
