"""The buyer-facing pages of a store's host, mounted at its root by config/urls_tenant.py."""

from django.urls import path

from storefront.shop import views

urlpatterns = [
    path("", views.store_home, name="store-home"),
    path("c/<slug:slug>/", views.category_page, name="store-category"),
    path("products/<int:product_id>/", views.product_page, name="store-product"),
    path("about/", views.about_page, name="store-about"),
    path("search", views.search_page, name="store-search"),
]
