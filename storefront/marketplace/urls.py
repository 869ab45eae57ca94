"""Marketplace routes of the root host (included under api/v1/marketplace/)."""

from django.urls import path

from storefront.marketplace import api

urlpatterns = [
    path("search", api.SearchView.as_view(), name="marketplace-search"),
    path("listings/batch", api.ListingBatchView.as_view(), name="marketplace-listings-batch"),
]
