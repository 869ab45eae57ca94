from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "storefront.purchases"
    label = "purchases"
    verbose_name = "Buyers' order history"

    def ready(self) -> None:
        from storefront.buyers.services import on_account_closed
        from storefront.purchases.services import forget_buyer

        # A closed account's order history goes with it (the stores keep their own records of the orders).
        on_account_closed(forget_buyer)
