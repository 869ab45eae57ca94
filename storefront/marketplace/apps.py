from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "storefront.marketplace"
    label = "marketplace"
    verbose_name = "Marketplace listing index"
