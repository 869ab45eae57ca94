"""System checks of the Stripe provider: with BILLING_PROVIDER=stripe the app does not start
(`manage.py check`, migrate, runserver) without the keys it needs to talk to Stripe and to verify
Stripe's webhooks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security)
def stripe_is_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.BILLING_PROVIDER != "stripe":
        return []
    errors: list[CheckMessage] = []
    if not settings.STRIPE_WEBHOOK_SECRET.strip():
        # An HMAC keyed with "" is anyone's to compute: webhooks would accept forged events.
        errors.append(
            Error(
                "BILLING_PROVIDER is stripe but STRIPE_WEBHOOK_SECRET is empty.",
                hint="Set it to the endpoint's signing secret (whsec_...) from Stripe's dashboard.",
                id="stripe_gateway.E001",
            )
        )
    if not settings.STRIPE_SECRET_KEY.strip():
        errors.append(
            Error(
                "BILLING_PROVIDER is stripe but STRIPE_SECRET_KEY is empty.",
                hint="Set it to the account's secret key (sk_live_... or sk_test_...).",
                id="stripe_gateway.E002",
            )
        )
    if settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS <= 0:
        # stripe-python skips the timestamp check for a tolerance of 0: old deliveries could be replayed.
        errors.append(
            Error(
                "STRIPE_WEBHOOK_TOLERANCE_SECONDS must be a positive number of seconds.",
                id="stripe_gateway.E003",
            )
        )
    return errors
