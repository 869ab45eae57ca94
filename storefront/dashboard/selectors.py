"""What the dashboard's home shows a merchant at a glance: orders to prepare today, unread messages, products
running low, this week's views and sales, the plan and its projected bill, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import F

from billing.selectors import projected_invoice
from storefront.analytics import selectors as analytics
from storefront.catalog.availability import LOW_STOCK
from storefront.catalog.models import Product, SellerProfile
from storefront.messages import selectors as conversations
from storefront.messages.models import Side
from storefront.orders.models import Order
from storefront.payments.models import StripeAccount
from tenants.models import Tenant

# What the merchant still has to do for an order, oldest first.
TO_PREPARE = (Order.Status.PLACED, Order.Status.PAID)
LIST_LIMIT = 10


@dataclass(frozen=True)
class NextStep:
    label: str
    url: str


def orders_to_prepare() -> list[Order]:
    return list(Order.objects.filter(status__in=TO_PREPARE).order_by("created_at", "pk")[:LIST_LIMIT])


def low_stock_products() -> list[Product]:
    left = F("stock") - F("allocated")
    return list(
        Product.objects.filter(status=Product.Status.ACTIVE)
        .annotate(left=left)
        .filter(left__lte=LOW_STOCK)
        .order_by("left", "pk")
        .only("id", "title", "stock", "allocated")[:LIST_LIMIT]
    )


def week(today: date) -> list[analytics.DayTotals]:
    return analytics.daily_totals(today, 7)


def next_steps(tenant: Tenant | None) -> list[NextStep]:
    """The setup a new store still lacks, in the order it matters to selling."""
    steps = []
    if not Product.objects.filter(status=Product.Status.ACTIVE).exists():
        steps.append(NextStep("Add your first product", "/dashboard/products/"))
    profile = SellerProfile.objects.filter(pk=1).only("story", "town").first()
    if profile is None or not profile.story.strip():
        steps.append(NextStep("Tell buyers your story", "/dashboard/story/"))
    account = StripeAccount.objects.only("charges_enabled").first()
    if account is None or not account.charges_enabled:
        steps.append(NextStep("Connect payouts to take cards", "/dashboard/payouts/"))
    return steps


def home(tenant: Tenant | None, today: date) -> dict[str, Any]:
    days = week(today)
    return {
        "orders": orders_to_prepare(),
        "unread": conversations.unread_total(Side.SELLER),
        "low_stock": low_stock_products(),
        "week": days,
        "week_views": sum(day.views for day in days),
        "week_orders": sum(day.orders for day in days),
        "bill": projected_invoice(tenant) if tenant is not None else None,
        "next_steps": next_steps(tenant),
    }
