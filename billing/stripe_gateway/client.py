"""The one place a Stripe client is made: the pinned SDK and API version, settings' key and address."""

from __future__ import annotations

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Pinned with the SDK (requirements.txt): usage goes through Billing Meters only, previews through
# Invoice.create_preview; subscription periods live on the subscription's items.
API_VERSION = "2026-10-28.endive"


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ImproperlyConfigured("BILLING_PROVIDER=stripe needs STRIPE_SECRET_KEY.")
    base = settings.STRIPE_API_BASE.rstrip("/")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        base_addresses={"api": base, "meter_events": base if "api.stripe.com" not in base else None},
        # The SDK retries network errors and 5xx with backoff, sending the same Idempotency-Key.
        max_network_retries=2,
    )
