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
    from billing.models import Plan, Subscription
    from tenants.models import Tenant


@dataclass(frozen=True)
class StartedSubscription:
    """What a provider says about a subscription it has just started."""

    status: str
    period_start: datetime
    period_end: datetime
    customer_id: str = ""
    subscription_id: str = ""


class BillingProvider(Protocol):
    name: str

    def start_subscription(
        self, tenant: Tenant, plan: Plan, interval: Interval, now: datetime
    ) -> StartedSubscription: ...

    def change_plan(self, subscription: Subscription, plan: Plan, now: datetime) -> None:
        """Tell the provider the subscription moves to ``plan`` now (prorated); raise to refuse."""
        ...


class LocalProvider:
    """The platform bills by itself: no customer to create elsewhere, nothing to wait for."""

    name = "local"

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


_PROVIDERS: dict[str, type[BillingProvider]] = {"local": LocalProvider}


def get_provider(name: str | None = None) -> BillingProvider:
    """The provider called ``name``, else the configured one (BILLING_PROVIDER)."""
    name = name or settings.BILLING_PROVIDER
    try:
        return _PROVIDERS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown billing provider '{name}'; BILLING_PROVIDER is one of {', '.join(_PROVIDERS)}."
        ) from None
