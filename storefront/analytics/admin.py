"""Product analytics in the store's admin (/admin/analytics/productday/): views and orders per day of the
last 30 days as an inline SVG chart, and the products most viewed with their conversion. Read-only, for
the store's staff; the rows are the store's own (its schema)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe

from storefront.analytics import charts, selectors
from storefront.analytics.models import ProductDay

DAYS = 30


@admin.register(ProductDay)
class ProductDayAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the rollup only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        today = timezone.now().date()
        days = selectors.daily_totals(today, DAYS)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Product analytics",
            "days": DAYS,
            # Built from numbers and ISO dates only, each escaped (storefront/analytics/charts.py).
            "chart": mark_safe(charts.views_and_orders_svg(days)),  # noqa: S308
            "total_views": sum(day.views for day in days),
            "total_orders": sum(day.orders for day in days),
            "products": selectors.top_products(today, DAYS),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "analytics/admin/product_analytics.html", context)
