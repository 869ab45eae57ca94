"""Query parameters of the product list (and export): filters, `q` search and ordering."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import Q, QuerySet

from storefront.catalog.models import Product


class IntegerFilter(filters.NumberFilter):
    """Prices are integer minor units, so bounds are whole numbers too."""

    field_class = forms.IntegerField


class StableOrderingFilter(filters.OrderingFilter):
    """The chosen order, then newest id first: rows that tie never swap places between pages."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "-id")
        return qs


class ProductFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", max_length=200, help_text="Text in the title, description or SKU.")
    status = filters.ChoiceFilter(choices=Product.Status.choices)
    category = filters.CharFilter(field_name="category__slug", help_text="A category's slug.")
    tag = filters.CharFilter(method="with_tag", max_length=40, help_text="Products carrying this tag.")
    price_min = IntegerFilter(field_name="price", lookup_expr="gte", help_text="Lowest price, in minor units.")
    price_max = IntegerFilter(field_name="price", lookup_expr="lte", help_text="Highest price, in minor units.")
    ordering = StableOrderingFilter(
        fields=(
            ("title", "title"),
            ("price", "price"),
            ("stock", "stock"),
            ("sku", "sku"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
        ),
        help_text="A field to sort by, `-` in front for descending: title, price, stock, sku, created_at, updated_at.",
    )

    class Meta:
        model = Product
        fields = ["q", "status", "category", "tag", "price_min", "price_max"]

    def search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(title__icontains=text) | Q(description__icontains=text) | Q(sku__icontains=text))

    def with_tag(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        # Tags are stored lowercase; `@>` uses the GIN index on tags.
        tag = " ".join(value.split()).lower()
        return queryset.filter(tags__contains=[tag]) if tag else queryset
