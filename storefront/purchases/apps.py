from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "storefront.purchases"
    label = "purchases"
    verbose_name = "Buyers' order history"
