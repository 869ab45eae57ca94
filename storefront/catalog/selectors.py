"""Reading the catalog: product lists, the CSV export, the seller profile and import jobs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import F, QuerySet
from django_tenants.utils import tenant_context
from rest_framework import serializers

from storefront.catalog import browsing, product_csv, product_search
from storefront.catalog.currencies import DEFAULT_CURRENCY
from storefront.catalog.models import Category, ImportJob, ImportRowError, Product, SellerProfile
from tenants.db_backend import connection
from tenants.models import Tenant

EXPORT_CHUNK = 2000


def products() -> QuerySet[Product]:
    """Products with what a list shows of them in the same query (the category), newest first."""
    return Product.objects.select_related("category")


def product_rows(queryset: QuerySet[Product]) -> QuerySet[Product, Any]:
    """`queryset` as plain rows of what the product list shows (the category as its slug), one query."""
    return queryset.values(
        "id", "title", "description", "price", "currency", "sku", "stock", "status", "tags", "created_at",
        "updated_at", category_slug=F("category__slug"),
    )  # fmt: skip


def shaped_product_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows from `product_rows` in the API's shape: ProductSerializer's fields, in its order."""
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "description": row["description"],
            "price": row["price"],
            "currency": row["currency"],
            "sku": row["sku"],
            "stock": row["stock"],
            "status": row["status"],
            "category": row["category_slug"],
            "tags": row["tags"],
            # As the serializer's DateTimeField writes them, once (a cached page is then plain strings).
            "created_at": _DATETIME.to_representation(row["created_at"]),
            "updated_at": _DATETIME.to_representation(row["updated_at"]),
        }
        for row in rows
    ]


_DATETIME = serializers.DateTimeField()


def categories() -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def brand_colour() -> str:
    """The store's own colour (`#rrggbb`), or "" for the platform's."""
    return SellerProfile.objects.filter(pk=1).values_list("brand_colour", flat=True).first() or ""


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
            yield product_csv.format_report_row(row_cells, row_number, message)

    return _csv_lines(cells())


def product_labels(product: Product | int) -> list[str]:
    """Search labels of a product's ready images (colours, what the photo shows, shape), each once."""
    from storefront.images.selectors import labels_of

    return labels_of(product)


# --- The storefront: what buyers see on a store's host --------------------------------------------


@dataclass(frozen=True)
class ProductPage:
    """One page of a buyer's list. Pages are read one row past their end instead of counted: the
    row says whether a next page exists, and a list costs one query."""

    products: list[Product]
    number: int
    has_next: bool
    # The words matched nothing, so these are the products whose titles are spelt like them.
    by_resemblance: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1


_ORDERINGS = {
    browsing.NEWEST: ("-created_at", "-id"),
    browsing.PRICE_ASCENDING: ("price", "id"),
    browsing.PRICE_DESCENDING: ("-price", "-id"),
}


def store_currency() -> str:
    """The currency buyers' price filters are typed in."""
    return DEFAULT_CURRENCY


def listed_products() -> QuerySet[Product]:
    """Products buyers may see, as storefront grids show them: the one place to add what a card needs."""
    listed = Product.objects.filter(status=Product.Status.ACTIVE)
    if apps.is_installed("storefront.images"):
        # Cards show the main image (shop/_product_image.html): one query for the page, not one per card.
        from storefront.images.selectors import with_main_image

        listed = with_main_image(listed)
    return listed


def storefront_categories() -> list[Category]:
    """Every category of the store, one query: pages find theirs, its parent and children in it."""
    return list(Category.objects.order_by("name", "id"))


def buyer_product(product_id: int) -> Product | None:
    """A product with its category, whatever its status: the product page decides who may see it."""
    return Product.objects.select_related("category").filter(pk=product_id).first()


def _page(queryset: QuerySet[Product], request: browsing.ListingRequest) -> ProductPage:
    rows = list(queryset[request.offset : request.offset + browsing.PER_PAGE + 1])
    return ProductPage(rows[: browsing.PER_PAGE], request.page, has_next=len(rows) > browsing.PER_PAGE)


def _narrowed(
    queryset: QuerySet[Product], request: browsing.ListingRequest, categories: Sequence[Category]
) -> QuerySet[Product]:
    """`queryset` within the request's category (and its subcategories) and price range."""
    if request.category:
        root = next((c.pk for c in categories if c.slug == request.category), None)
        tree = browsing.category_and_descendants(((c.pk, c.parent_id) for c in categories), root) if root else set()
        queryset = queryset.filter(category_id__in=tree)
    if request.price_min is not None or request.price_max is not None:
        # A bound is typed in the store's currency; products priced in another can't be compared to it.
        queryset = queryset.filter(currency=store_currency())
        if request.price_min is not None:
            queryset = queryset.filter(price__gte=request.price_min)
        if request.price_max is not None:
            queryset = queryset.filter(price__lte=request.price_max)
    return queryset


def _ordered(queryset: QuerySet[Product], sort: str) -> QuerySet[Product]:
    return queryset.order_by(*_ORDERINGS.get(sort, _ORDERINGS[browsing.NEWEST]))


def listing_page(request: browsing.ListingRequest, categories: Sequence[Category]) -> ProductPage:
    """A page of active products, newest first unless sorted otherwise, in the request's category."""
    return _page(_ordered(_narrowed(listed_products(), request, categories), request.sort), request)


def search_products(request: browsing.ListingRequest, categories: Sequence[Category]) -> ProductPage:
    """In-store search: full-text on title, tags and description (weighted in that order), then, when
    the words match nothing, titles spelt like them (a typo). Only this store's schema is searched:
    the tables are the tenant's own, and the search_path never reaches another store's."""
    candidates = _narrowed(listed_products(), request, categories)
    if not request.words:
        return _page(_ordered(candidates, request.sort), request)
    found = candidates.filter(product_search.matches_words(request.words))
    if request.sort == browsing.RELEVANCE:
        found = found.annotate(rank=product_search.words_rank(request.words)).order_by("-rank", "-created_at", "-id")
    else:
        found = _ordered(found, request.sort)
    page = _page(found, request)
    if page.products or (request.page > 1 and found.exists()):
        return page
    # The threshold is a setting of pg_trgm; SET LOCAL keeps it to this transaction (pooler-safe).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL pg_trgm.word_similarity_threshold = {product_search.TYPO_SIMILARITY:.2f}")
        similar = candidates.filter(product_search.title_resembles(request.words))
        if request.sort == browsing.RELEVANCE:
            similar = similar.annotate(resemblance=product_search.title_resemblance(request.words)).order_by(
                "-resemblance", "-created_at", "-id"
            )
        else:
            similar = _ordered(similar, request.sort)
        page = _page(similar, request)
    return replace(page, by_resemblance=True)
