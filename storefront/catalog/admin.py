from django.contrib import admin

from storefront.catalog.models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["title", "sku", "price", "currency", "stock", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "sku"]
