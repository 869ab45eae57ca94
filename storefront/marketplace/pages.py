"""The marketplace's root page: local stores and the search, with the same validation, selector and result
rows as the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from storefront.marketplace import selectors
from storefront.marketplace.api import hit_rows, search_query
from storefront.marketplace.serializers import SearchParamsSerializer
from tenants.models import Tenant
from tenants.routing import store_url


def marketplace_search_context(request: HttpRequest) -> dict[str, Any]:
    """Template context for the search box and, when the buyer searched, the results or the problems."""
    q, near = request.GET.get("q", "").strip(), request.GET.get("near", "").strip()
    context: dict[str, Any] = {"q": q, "near": near, "searched": bool(q or near)}
    if not context["searched"]:
        return context
    params = SearchParamsSerializer(data={"q": q, "near": near, "page": request.GET.get("page", "1")})
    try:
        params.is_valid(raise_exception=True)
        page = selectors.search_listings(search_query(params.validated_data))
    except ValidationError as error:
        detail = error.detail if isinstance(error.detail, dict) else {"q": error.detail}
        context["errors"] = [str(message) for messages in detail.values() for message in messages]
        return context
    context.update(count=page.count, results=hit_rows(page))
    return context


def marketplace_home(request: HttpRequest) -> HttpResponse:
    stores = Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("name")[:50]
    rows = [{"store": store, "url": store_url(store.slug)} for store in stores]
    return render(request, "marketplace/home.html", {"rows": rows, **marketplace_search_context(request)})
