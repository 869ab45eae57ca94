"""The store's front page on its own host."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from storefront.catalog.models import Product


def store_home(request: HttpRequest) -> HttpResponse:
    products = Product.objects.filter(status=Product.Status.ACTIVE)[:48]
    return render(request, "catalog/store_home.html", {"store": request.tenant, "products": products})  # type: ignore[attr-defined]
