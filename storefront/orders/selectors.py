"""Reading carts and orders in the shapes the API and pages show (money in minor units)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from storefront.orders.models import Cart, CartItem, Order, OrderLine


def cart_body(cart: Cart | None) -> dict[str, Any]:
    """The cart with today's catalog prices (a price changed since adding is the price paid)."""
    items = []
    currency = ""
    if cart is not None:
        rows = (
            CartItem.objects.filter(cart=cart)
            .order_by("added_at", "id")
            .values_list("id", "product_id", "product__title", "quantity", "product__price", "product__currency")
        )
        for item_id, product_id, title, quantity, price, item_currency in rows:
            items.append(
                {
                    "id": item_id,
                    "product": product_id,
                    "title": title,
                    "quantity": quantity,
                    "unit_price": price,
                    "line_total": price * quantity,
                }
            )
            currency = item_currency
    return {"items": items, "currency": currency, "total": sum(item["line_total"] for item in items)}


def line_body(line: OrderLine) -> dict[str, Any]:
    return {
        "product": line.product_id,
        "title": line.title,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "line_total": line.line_total,
    }


def order_body(order: Order, lines: Iterable[OrderLine] | None = None) -> dict[str, Any]:
    lines = order.lines.all() if lines is None else lines
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "fulfilment": order.fulfilment,
        "address": order.address,
        "payment": order.payment_provider,
        "total": order.total,
        "currency": order.currency,
        "email": order.email,
        "name": order.name,
        "created_at": order.created_at.isoformat(),
        "reserved_until": order.reserved_until.isoformat() if order.reserved_until else None,
        "items": [line_body(line) for line in lines],
    }


def orders(*, buyer_id: int | None = None, status: str | None = None) -> QuerySet[Order]:
    """A store's orders, newest first (a buyer's own only, with `buyer_id`), lines prefetched."""
    queryset = Order.objects.prefetch_related("lines")
    if buyer_id is not None:
        queryset = queryset.filter(buyer_id=buyer_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def order_history(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "from": event.from_status,
            "to": event.to_status,
            "by": event.actor,
            "reason": event.reason,
            "at": event.created_at.isoformat(),
        }
        for event in order.events.all()
    ]
