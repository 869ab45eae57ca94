"""The `stripe` billing provider (BILLING_PROVIDER=stripe): Stripe collects and issues the invoices.

A store starts trialing on its plan; it pays through Checkout, and the subscription becomes what
Stripe's webhooks say it is (billing.stripe_gateway.webhooks).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from billing.periods import period_bounds
from billing.provider_protocol import Collection, StartedSubscription
from billing.rating import Interval
from billing.stripe_gateway import services

if TYPE_CHECKING:
    from billing.models import Invoice, Plan, Subscription
    from tenants.models import Tenant


class StripeProvider:
    name = "stripe"
    issues_invoices = False

    def start_subscription(self, tenant: Tenant, plan: Plan, interval: Interval, now: datetime) -> StartedSubscription:
        # No network in signup's transaction: the Customer is made when the owner first goes to Checkout.
        start, end = period_bounds(now, interval)
        return StartedSubscription(status="trialing", period_start=start, period_end=end)

    def change_plan(self, subscription: Subscription, plan: Plan, now: datetime) -> None:
        services.move_subscription_to_plan(subscription, plan)

    def collect_invoice(self, invoice: Invoice) -> Collection:
        raise NotImplementedError("Stripe collects its own invoices; billing learns the outcome from webhooks.")

    def set_cancel_at_period_end(self, subscription: Subscription, cancel: bool) -> None:
        services.set_cancel_at_period_end(subscription, cancel)

    def payment_methods_url(self, subscription: Subscription, return_url: str) -> str | None:
        return services.portal_url(subscription.tenant, return_url)
