"""What the store admin's analytics page reads: totals per day and the products most viewed, from the
store's own ProductDay rows (its schema: never another store's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Sum

from storefront.analytics.charts import DayTotals
from storefront.analytics.models import ProductDay
from storefront.catalog.models import Product


@dataclass(frozen=True)
class ProductTotals:
    product_id: int
    title: str
    views: int
    unique_viewers: int
    add_to_carts: int
    orders: int
    units: int

    @property
    def conversion(self) -> float | None:
        """Orders per unique viewer (daily unique viewers summed: a visitor on two days counts twice)."""
        return self.orders / self.unique_viewers if self.unique_viewers else None


def daily_totals(today: date, days: int = 30) -> list[DayTotals]:
    """Views and orders of each of the last ``days`` days up to today, oldest first (days without any: 0)."""
    first = today - timedelta(days=days - 1)
    totals = {
        row["day"]: row
        for row in ProductDay.objects.filter(day__gte=first, day__lte=today)
        .values("day")
        .annotate(views=Sum("views"), orders=Sum("orders"))
        .order_by()
    }
    return [
        DayTotals(day, int(totals[day]["views"] or 0), int(totals[day]["orders"] or 0))
        if day in totals
        else DayTotals(day, 0, 0)
        for day in (first + timedelta(days=n) for n in range(days))
    ]


def top_products(today: date, days: int = 30, limit: int = 10) -> list[ProductTotals]:
    """The products most viewed over the last ``days`` days, with what they sold."""
    first = today - timedelta(days=days - 1)
    rows = list(
        ProductDay.objects.filter(day__gte=first, day__lte=today)
        .values("product_id")
        .annotate(
            views=Sum("views"),
            unique_viewers=Sum("unique_viewers"),
            add_to_carts=Sum("add_to_carts"),
            orders=Sum("orders"),
            units=Sum("units"),
        )
        .order_by("-views", "product_id")[:limit]
    )
    titles = dict(Product.objects.filter(pk__in=[row["product_id"] for row in rows]).values_list("pk", "title"))
    return [
        ProductTotals(
            product_id=row["product_id"],
            title=titles.get(row["product_id"], ""),
            views=int(row["views"] or 0),
            unique_viewers=int(row["unique_viewers"] or 0),
            add_to_carts=int(row["add_to_carts"] or 0),
            orders=int(row["orders"] or 0),
            units=int(row["units"] or 0),
        )
        for row in rows
    ]
