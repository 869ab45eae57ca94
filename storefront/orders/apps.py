from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "storefront.orders"
    label = "orders"
    verbose_name = "Carts and orders"
