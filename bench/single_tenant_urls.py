"""URLs of the single-tenant comparison app: the store's catalog API, mounted where a store host has it."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("storefront.catalog.urls"))]
