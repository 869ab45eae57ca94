"""Product image API routes on a store host, mounted under /api/v1/ by config/urls_tenant.py."""

from django.urls import path

from storefront.images import api

urlpatterns = [
    path("products/<int:product_id>/images", api.ProductImageListView.as_view(), name="product-images"),
    path(
        "products/<int:product_id>/images/presign", api.PresignImageUploadView.as_view(), name="product-image-presign"
    ),
    path(
        "products/<int:product_id>/images/complete",
        api.CompleteImageUploadView.as_view(),
        name="product-image-complete",
    ),
    path("products/<int:product_id>/images/<int:image_id>", api.ProductImageView.as_view(), name="product-image"),
]
