"""The catalog's API routes on a store host, mounted under /api/v1/ by config/urls_tenant.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from storefront.catalog import api

router = SimpleRouter(trailing_slash=False)
router.register("products", api.ProductViewSet, basename="product")
router.register("categories", api.CategoryViewSet, basename="category")

urlpatterns = [
    path("products/import", api.ImportJobListView.as_view(), name="product-imports"),
    path("products/import/<int:pk>", api.ImportJobView.as_view(), name="product-import"),
    path("products/import/<int:pk>/errors.csv", api.ImportErrorReportView.as_view(), name="product-import-errors"),
    path("seller-profile", api.SellerProfileView.as_view(), name="seller-profile"),
    *router.urls,
]
