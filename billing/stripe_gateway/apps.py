from django.apps import AppConfig


class StripeGatewayConfig(AppConfig):
    name = "billing.stripe_gateway"
    label = "stripe_gateway"
    verbose_name = "Billing: Stripe"
