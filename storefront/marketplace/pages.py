"""The marketplace's root page: local stores and the search, with the API's selector and result rows.

The search is GET parameters (a shareable URL) read forgivingly (`search_filters`). Without `near` in
the URL the page searches from the buyer's town: a signed-in buyer's profile postcode or town, else
the place an anonymous visitor last searched from (a host-only cookie).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from storefront.buyers.web import root_buyer_account
from storefront.catalog.currencies import DEFAULT_CURRENCY, minor_unit_exponent
from storefront.marketplace import search_filters, selectors
from storefront.marketplace.api import hit_rows
from storefront.marketplace.search_filters import PageSearch
from tenants.models import Tenant
from tenants.routing import store_url

NEAR_COOKIE = "marketplace_near"
NEAR_COOKIE_SECONDS = 365 * 24 * 3600


def remembered_place(request: HttpRequest) -> tuple[str, str]:
    """(place text, where it came from: "profile" or "cookie") when the URL names no place."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        account = root_buyer_account(request)
        if account is not None and (account.town or account.postcode):
            return selectors.home_place(account.town, account.postcode) or account.postcode or account.town, "profile"
    near = search_filters.read_search({"near": request.COOKIES.get(NEAR_COOKIE, "")}).near or ""
    return (near, "cookie") if near else ("", "")


def _unknown_place_notice(near: str, source: str) -> str:
    whose = {"profile": " (the town on your profile)", "cookie": " (where you last searched)"}.get(source, "")
    notice = f"Unknown town or postcode “{near}”{whose}: showing results from everywhere."
    similar = selectors.similar_places(near)
    if similar:
        return notice + " Did you mean " + " or ".join(similar) + "?"
    return notice + " Try a nearby town, or a postcode like HX7 8AD."


def marketplace_search_context(request: HttpRequest) -> dict[str, Any]:
    """Template context for the search form and, when there is something to search, the results."""
    search = search_filters.read_search(request.GET)
    near, source = (search.near, "url") if search.near is not None else remembered_place(request)
    place = selectors.resolve_place(near) if near else None
    if near and place is None:
        search = search.noting(_unknown_place_notice(near, source))
    if place is None:
        search = search_filters.without_place(search)
    context: dict[str, Any] = {
        "search": search,
        "q": search.q,
        "near": near,
        "place": place,
        "remembered": source if source in ("profile", "cookie") and place else "",
        "searched": bool(search.q or near),
        "categories": selectors.listed_categories(),
        "sorts": search_filters.SORTS,
        "radii": search_filters.RADII_KM,
        "price_inputs": _price_inputs(search),
    }
    if context["searched"]:
        page = selectors.search_listings(_query(search, place))
        size = search_filters.PAGE_SIZE
        context.update(
            count=page.count,
            results=hit_rows(page),
            previous_url=_page_url(request, search.page - 1) if search.page > 1 else "",
            next_url=_page_url(request, search.page + 1) if search.page * size < page.count else "",
        )
    return context


def _query(search: PageSearch, place: Any) -> selectors.SearchQuery:
    size = search_filters.PAGE_SIZE
    return selectors.SearchQuery(
        text=search.q,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        category=search.category,
        min_price=search.min_price,
        max_price=search.max_price,
        within_km=search.within_km,
        in_stock=search.in_stock,
        sort=search.sort,
        limit=size,
        offset=(search.page - 1) * size,
    )


def _price_inputs(search: PageSearch) -> dict[str, str]:
    """The price boxes' values in the major unit, as read ("12.50"), blank where none was taken."""
    exponent = minor_unit_exponent(DEFAULT_CURRENCY)
    return {
        field: "" if value is None else f"{Decimal(value).scaleb(-exponent):.{exponent}f}"
        for field, value in (("min_price", search.min_price), ("max_price", search.max_price))
    }


def _page_url(request: HttpRequest, number: int) -> str:
    query = request.GET.copy()
    query["page"] = str(number)
    return f"{request.path}?{query.urlencode()}"


def marketplace_home(request: HttpRequest) -> HttpResponse:
    stores = Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("name")[:50]
    rows = [{"store": store, "url": store_url(store.slug)} for store in stores]
    context = marketplace_search_context(request)
    response = render(request, "marketplace/home.html", {"rows": rows, **context})
    typed = context["search"].near
    if typed is not None and context["place"] is not None:
        # Remembered as the gazetteer names it ("HX7 8AD" -> "HX7"): a district, never a street's postcode.
        response.set_cookie(
            NEAR_COOKIE,
            context["place"].name,
            max_age=NEAR_COOKIE_SECONDS,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    elif typed == "" and NEAR_COOKIE in request.COOKIES:
        response.delete_cookie(NEAR_COOKIE, samesite="Lax")
    patch_vary_headers(response, ["Cookie"])
    return response
