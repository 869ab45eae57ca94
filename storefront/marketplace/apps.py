from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "storefront.marketplace"
    label = "marketplace"
    verbose_name = "Marketplace listing index"

    def ready(self) -> None:
        from storefront.marketplace.services import set_store_listings_live
        from tenants import lifecycle

        # A store suspended, reopened or taken down: its listings hidden or shown in the same transaction.
        lifecycle.on_visibility_change(set_store_listings_live)
