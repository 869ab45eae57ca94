from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "storefront.payments"
    label = "payments"
    verbose_name = "Payments to merchants"
