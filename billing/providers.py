"""Payment providers behind one small interface, picked by the BILLING_PROVIDER setting.

`local` (the default) needs no network: the platform is its own provider, subscriptions start at once
and plan changes take effect at once. `stripe` comes with the Stripe integration.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from billing.periods import period_bounds
from billing.provider_protocol import BillingProvider, Collection, StartedSubscription
from billing.rating import Interval

if TYPE_CHECKING:
    from billing.models import Invoice, Plan, Subscription
    from tenants.models import Tenant


class LocalProvider:
    """The platform bills by itself: no customer to create elsewhere, nothing to wait for."""

    name = "local"
    issues_invoices = True

    def start_subscription(self, tenant: Tenant, plan: Plan, interval: Interval, now: datetime) -> StartedSubscription:
        start, end = period_bounds(now, interval)
        return StartedSubscription(
            status="active",
            period_start=start,
            period_end=end,
            customer_id=f"lcus_{secrets.token_hex(8)}",
            subscription_id=f"lsub_{secrets.token_hex(8)}",
        )

    def change_plan(self, subscription: Subscription, plan: Plan, now: datetime) -> None:
        """Nothing to tell: the proration is recorded by billing.services as pending invoice items."""

    def collect_invoice(self, invoice: Invoice) -> Collection:
        """Paid at once, unless staff flagged the subscription to fail (to walk through dunning)."""
        if invoice.subscription.simulate_payment_failure:
            return Collection(paid=False, error="The card was declined (simulated by the local provider).")
        return Collection(paid=True)

    def set_cancel_at_period_end(self, subscription: Subscription, cancel: bool) -> None:
        """Nothing to tell: the platform's period close ends the subscription."""

    def payment_methods_url(self, subscription: Subscription, return_url: str) -> str | None:
        return None  # the platform keeps no payment methods


# By dotted path, like Django's own backends: a provider builds on billing's services, which pick providers.
_PROVIDERS: dict[str, str] = {
    "local": "billing.providers.LocalProvider",
    "stripe": "billing.stripe_gateway.provider.StripeProvider",
}


def _provider_class(name: str) -> type[BillingProvider]:
    return import_string(_PROVIDERS[name])  # type: ignore[no-any-return]


def invoicing_provider_names() -> list[str]:
    """The providers whose periods the platform closes and invoices itself (billing.invoicing)."""
    return [name for name in _PROVIDERS if getattr(_provider_class(name), "issues_invoices", False)]


def get_provider(name: str | None = None) -> BillingProvider:
    """The provider called ``name``, else the configured one (BILLING_PROVIDER)."""
    name = name or settings.BILLING_PROVIDER
    try:
        provider = _provider_class(name)
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown billing provider '{name}'; BILLING_PROVIDER is one of {', '.join(_PROVIDERS)}."
        ) from None
    return provider()
