"""The storefront buyers see on a store's own host: home, category pages, product pages, the seller's
story and in-store search. Thin: parse the query string, call a selector, render."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from storefront.analytics import recording
from storefront.catalog import browsing, selectors
from storefront.catalog.models import Category, Product
from storefront.orders.services import MAX_QUANTITY
from tenants.permissions import is_store_member


def _paging(listing: browsing.ListingRequest, page: selectors.ProductPage, currency: str) -> dict[str, Any]:
    """Links to the neighbouring pages and to the other sort orders, keeping every other parameter."""
    return {
        "previous_query": browsing.query_string(listing, currency, page=page.number - 1) if page.has_previous else "",
        "next_query": browsing.query_string(listing, currency, page=page.number + 1) if page.has_next else "",
    }


def _sort_links(listing: browsing.ListingRequest, sorts: tuple[str, ...], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "label": browsing.SORT_LABELS[sort],
            "query": browsing.query_string(listing, currency, sort=sort, page=1),
            "current": sort == listing.sort,
        }
        for sort in sorts
    ]


def store_home(request: HttpRequest) -> HttpResponse:
    currency = selectors.store_currency()
    listing = browsing.parse_listing({"page": request.GET.get("page", "")}, currency=currency)
    categories = selectors.storefront_categories()
    page = selectors.listing_page(listing, categories)
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "profile": selectors.seller_profile(),
        "categories": [category for category in categories if category.parent_id is None],
        "page": page,
        **_paging(listing, page, currency),
    }
    return render(request, "shop/store_home.html", context)


def category_page(request: HttpRequest, slug: str) -> HttpResponse:
    currency = selectors.store_currency()
    categories = selectors.storefront_categories()
    by_slug = {category.slug: category for category in categories}
    category = by_slug.get(slug)
    if category is None:
        raise Http404("No such category in this store.")
    listing = browsing.parse_listing({**request.GET.dict(), "category": slug, "q": ""}, currency=currency)
    page = selectors.listing_page(listing, categories)
    by_id = {c.pk: c for c in categories}
    links = replace(listing, category="")  # the path names the category already
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "category": category,
        "parent": by_id.get(category.parent_id) if category.parent_id else None,
        "subcategories": [c for c in categories if c.parent_id == category.pk],
        "page": page,
        "sorts": _sort_links(links, browsing.LIST_SORTS, currency),
        **_paging(links, page, currency),
    }
    return render(request, "shop/category.html", context)


def _may_preview(request: HttpRequest) -> bool:
    """The store's own people (owner, staff) see products that are not on sale yet."""
    user = request.user
    return bool(user.is_authenticated and user.is_active and is_store_member(user))  # type: ignore[arg-type]


def product_page(request: HttpRequest, product_id: int) -> HttpResponse:
    product = selectors.buyer_product(product_id)
    # Drafts and archived products don't exist for buyers: the same 404 as an id that was never used.
    if product is None or (product.status != Product.Status.ACTIVE and not _may_preview(request)):
        raise Http404("No such product in this store.")
    if product.status == Product.Status.ACTIVE:  # the staff's previews of drafts are not buyers' views
        recording.record_product_view(request, product.pk)
    return render(request, "shop/product.html", product_context(request, product))


def product_context(request: HttpRequest, product: Product) -> dict[str, Any]:
    """The product page's context (also when its add-to-cart form comes back with an error)."""
    return {
        "store": request.tenant,  # type: ignore[attr-defined]
        "product": product,
        "category": product.category,
        "profile": selectors.seller_profile(),
        "is_preview": product.status != Product.Status.ACTIVE,
        "max_quantity": min(product.unallocated, MAX_QUANTITY),
    }


def about_page(request: HttpRequest) -> HttpResponse:
    context = {"store": request.tenant, "profile": selectors.seller_profile()}  # type: ignore[attr-defined]
    return render(request, "shop/about.html", context)


def search_page(request: HttpRequest) -> HttpResponse:
    currency = selectors.store_currency()
    listing = browsing.parse_listing(request.GET.dict(), currency=currency, sorts=browsing.SEARCH_SORTS)
    categories: list[Category] = selectors.storefront_categories()
    searched = bool(listing.words or listing.is_filtered)
    page = selectors.search_products(listing, categories) if searched else None
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "listing": listing,
        "categories": categories,
        "price_min": request.GET.get("min", "") if listing.price_min is not None else "",
        "price_max": request.GET.get("max", "") if listing.price_max is not None else "",
        "page": page,
        "searched": searched,
        "sorts": _sort_links(listing, browsing.SEARCH_SORTS if listing.words else browsing.LIST_SORTS, currency)
        if searched
        else [],
        **(_paging(listing, page, currency) if page else {}),
    }
    return render(request, "shop/search.html", context)
