from django.apps import AppConfig


class StripeGatewayConfig(AppConfig):
    name = "billing.stripe_gateway"
    label = "stripe_gateway"
    verbose_name = "Billing: Stripe"

    def ready(self) -> None:
        # Registers the system checks (BILLING_PROVIDER=stripe refuses to start without its secrets).
        from billing.stripe_gateway import checks  # noqa: F401
