"""The dashboard's products section, mounted at /dashboard/products/ by `storefront.dashboard.urls`."""

from django.urls import path

from storefront.dashboard import categories, imports, product_photos, products

urlpatterns = [
    path("", products.product_list, name="products"),
    path("new", products.new_product, name="product-new"),
    path("<int:pk>/", products.edit_product, name="product"),
    path("<int:pk>/delete", products.delete_product, name="product-delete"),
    path("<int:pk>/quick", products.quick_edit, name="product-quick-edit"),
    path("<int:pk>/photos", product_photos.photos, name="product-photos"),
    path("<int:pk>/photos/<int:image_id>/move", product_photos.move_photo, name="product-photo-move"),
    path("<int:pk>/photos/<int:image_id>/describe", product_photos.describe_photo, name="product-photo-describe"),
    path("<int:pk>/photos/<int:image_id>/delete", product_photos.delete_photo, name="product-photo-delete"),
    path("import", imports.upload, name="products-import"),
    path("import/<int:pk>/", imports.job_page, name="products-import-job"),
    path("import/<int:pk>/progress", imports.progress, name="products-import-progress"),
    path("import/<int:pk>/refused.csv", imports.refused_rows, name="products-import-refused"),
    path("categories", categories.category_list, name="product-categories"),
    path("categories/<int:pk>/rename", categories.rename_category, name="product-category-rename"),
]
