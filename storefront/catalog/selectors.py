"""Reading the catalog: product lists, the CSV export, the seller profile and import jobs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django_tenants.utils import tenant_context

from config.db_backend import connection
from storefront.catalog import product_csv
from storefront.catalog.models import Category, ImportJob, ImportRowError, Product, SellerProfile
from tenants.models import Tenant

EXPORT_CHUNK = 2000


def products() -> QuerySet[Product]:
    """Products with what a list shows of them in the same query (the category), newest first."""
    return Product.objects.select_related("category")


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def seller_profile() -> SellerProfile:
    """The store's profile; before the seller writes one, a blank one in the store's own town."""
    profile = SellerProfile.objects.filter(pk=1).first()
    if profile is not None:
        return profile
    # The registry row (public) has the town given at signup; the routed tenant carries only what
    # routing needs, so it is read here, once, until the seller saves a profile.
    where = Tenant.objects.filter(schema_name=connection.schema_name).values("town", "postcode").first() or {}
    return SellerProfile(town=where.get("town", ""), postcode=where.get("postcode", ""))


def import_jobs() -> QuerySet[ImportJob]:
    return ImportJob.objects.all()


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Each row as one CSV line of text (a StreamingHttpResponse sends them as they come)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _in_chunks(queryset: QuerySet[Any], key: str, fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """`fields` of every row, in `key` order, read EXPORT_CHUNK rows a query (keyset paging).

    Memory stays bounded without a server-side cursor (which a transaction pooler can't carry), and
    each chunk is read in the schema the caller was in: a streamed response is iterated by the server
    after the view has returned and the routing middleware has left the store's schema.
    """
    tenant = connection.tenant  # now, at the call: the rows are read later

    def rows() -> Iterator[tuple[Any, ...]]:
        last = None
        while True:
            page = queryset.order_by(key)
            if last is not None:
                page = page.filter(**{f"{key}__gt": last})
            with tenant_context(tenant):
                chunk = list(page.values_list(key, *fields)[:EXPORT_CHUNK])
            if not chunk:
                return
            for row in chunk:
                yield row[1:]
            last = chunk[-1][0]

    return rows()


def export_csv_lines(queryset: QuerySet[Product]) -> Iterator[str]:
    """The catalog as CSV in the import format, in SKU order, streamed a chunk of rows at a time."""
    fields = ("sku", "title", "description", "price", "currency", "stock", "status", "category__slug", "tags")
    rows = _in_chunks(queryset, "sku", fields)

    def cells() -> Iterator[list[str]]:
        yield list(product_csv.COLUMNS)
        for sku, title, description, price, currency, stock, status, category, tags in rows:
            yield product_csv.format_row(
                product_csv.ProductRow(
                    sku=sku,
                    title=title,
                    description=description,
                    price=price,
                    currency=currency,
                    stock=stock,
                    status=status,
                    category=category or "",
                    tags=tuple(tags),
                )
            )

    return _csv_lines(cells())


def error_report_name(job: ImportJob) -> str:
    """`spring.csv` -> `spring-errors.csv`."""
    return f"{job.source_name.rsplit('.', 1)[0] or 'import'}-errors.csv"


def error_report_lines(job: ImportJob) -> Iterator[str]:
    """An import's refused rows as CSV: the file's columns as uploaded, then `row` and `error`.

    A row whose cell count didn't match the header is written as it came, so its columns may not line up.
    """
    errors = _in_chunks(ImportRowError.objects.filter(job=job), "row_number", ("row_number", "message", "cells"))

    def cells() -> Iterator[list[str]]:
        yield [*job.header, *product_csv.REPORT_COLUMNS]
        for row_number, message, row_cells in errors:
            yield [*row_cells, str(row_number), message]

    return _csv_lines(cells())
