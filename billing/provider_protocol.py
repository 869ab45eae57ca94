"""What every payment provider answers to (the `local` one in billing.providers, Stripe's in
billing.stripe_gateway.provider): the interface, and the small values it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

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
