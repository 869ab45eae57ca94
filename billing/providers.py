"""Payment providers behind one small interface, picked by the BILLING_PROVIDER setting.

`local` (the default) needs no network: the platform is its own provider, subscriptions start at once
and plan changes take effect at once. `stripe` comes with the Stripe integration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from billing.periods import period_bounds
from billing.rating import Interval

if TYPE_CHECKING:
    from billing.models import Invoice, Plan, Subscription
    from tenants.models import Tenant


@dataclass(frozen=True)
class StartedSubscription:
    """What a provider says about a subscription it has just started."""

    status: str
    period_start: datetime
    period_end: datetime
    customer_id: str = ""
    subscription_id: str = ""


@dataclass(frozen=True)
class Collection:
    """The outcome of asking a provider to collect an invoice's total."""

    paid: bool
    error: str = ""


class BillingProvider(Protocol):
    name: str
    # True: the platform closes this provider's periods and issues the invoices (billing.invoicing);
    # False: the provider does (Stripe), and tells us through billing.services.mark_invoice_paid/_failed.
    issues_invoices: bool

    def start_subscription(
        self, tenant: Tenant, plan: Plan, interval: Interval, now: datetime
    ) -> StartedSubscription: ...

    def change_plan(self, subscription: Subscription, plan: Plan, now: datetime) -> None:
        """Tell the provider the subscription moves to ``plan`` now (prorated); raise to refuse."""
        ...

    def collect_invoice(self, invoice: Invoice) -> Collection:
        """Charge the invoice's total (idempotent per invoice number); only if ``issues_invoices``."""
        ...

    def set_cancel_at_period_end(self, subscription: Subscription, cancel: bool) -> None:
        """Tell the provider the subscription ends with its period (or, ``cancel`` False, goes on)."""
        ...

    def payment_methods_url(self, subscription: Subscription, return_url: str) -> str | None:
        """Where the customer manages payment methods, or None when there is nothing to manage."""
        ...


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


from billing.stripe_gateway.provider import StripeProvider  # noqa: E402 - it builds on the classes above

_PROVIDERS: dict[str, type[BillingProvider]] = {"local": LocalProvider, "stripe": StripeProvider}


def invoicing_provider_names() -> list[str]:
    """The providers whose periods the platform closes and invoices itself (billing.invoicing)."""
    return [name for name, provider in _PROVIDERS.items() if getattr(provider, "issues_invoices", False)]


def get_provider(name: str | None = None) -> BillingProvider:
    """The provider called ``name``, else the configured one (BILLING_PROVIDER)."""
    name = name or settings.BILLING_PROVIDER
    try:
        return _PROVIDERS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown billing provider '{name}'; BILLING_PROVIDER is one of {', '.join(_PROVIDERS)}."
        ) from None
