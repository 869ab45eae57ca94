from django.apps import AppConfig


class BuyersConfig(AppConfig):
    name = "storefront.buyers"
    label = "buyers"
    verbose_name = "Buyer accounts"
