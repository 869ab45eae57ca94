"""Pages of the catalog's lists. The product list, the API's busiest read, learns its total from the page
query itself (`count(*) OVER ()`) instead of a second COUNT query."""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, Window
from rest_framework import pagination

TOTAL = "page_total_rows"


class WindowCountPaginator(Paginator):
    """A paginator for querysets of rows (`.values()`): each row of a page carries the total row count.

    Only an empty page (past the end, or no rows at all) costs a COUNT query, to tell the two apart.
    """

    def page(self, number: Any) -> Page:
        number = self.validate_number_format(number)
        bottom = (number - 1) * self.per_page
        with_total = self.object_list.annotate(**{TOTAL: Window(Count("*"))})  # type: ignore[attr-defined]
        rows = list(with_total[bottom : bottom + self.per_page])
        if not rows:
            return super().page(number)
        self.__dict__["count"] = rows[0][TOTAL]  # Paginator.count is a cached_property
        for row in rows:
            del row[TOTAL]
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]

    def validate_number_format(self, number: Any) -> int:
        """`number` as a page number (1 and up), without counting rows to see whether that page exists."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class CatalogPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ProductRowsPagination(CatalogPagination):
    django_paginator_class = WindowCountPaginator
