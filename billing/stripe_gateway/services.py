"""Changes through Stripe: a store's Customer, Checkout for a plan, Billing Portal sessions, and the
plan changes and cancellations its subscription goes through at Stripe."""

from __future__ import annotations

from typing import Any, cast

import stripe
from django.db import transaction

from billing.errors import BillingError
from billing.models import Plan, Subscription
from billing.rating import Interval
from billing.stripe_gateway.client import stripe_client
from billing.stripe_gateway.models import StripeCustomer, StripePrice
from tenants.models import Tenant


def ensure_customer(tenant: Tenant, client: stripe.StripeClient | None = None) -> str:
    """The store's Stripe Customer id, made once (the idempotency key makes a racing twin the same)."""
    known = StripeCustomer.objects.filter(tenant=tenant).values_list("customer_id", flat=True).first()
    if known:
        return known
    client = client or stripe_client()
    customer = client.v1.customers.create(
        params={
            "name": tenant.name,
            "email": tenant.owner_email,
            "metadata": {"localbazaar_tenant": str(tenant.pk), "slug": tenant.slug},
        },
        options={"idempotency_key": f"lb-customer-{tenant.pk}"},
    )
    StripeCustomer.objects.get_or_create(tenant=tenant, defaults={"customer_id": customer.id})
    return customer.id


def plan_price_ids(plan: Plan, interval: Interval) -> list[str]:
    """The synced Prices of a plan for one interval: its fee first, then its metered usage charges."""
    prices = dict(
        StripePrice.objects.filter(plan=plan, component__in=_components(plan, interval)).values_list(
            "component", "price_id"
        )
    )
    components = _components(plan, interval)
    if set(components) - set(prices):
        raise BillingError(
            f"The {plan.name} plan is not synced to Stripe yet (run manage.py sync_billing_catalog).", "plan_not_synced"
        )
    return [prices[component] for component in components]


def _components(plan: Plan, interval: Interval) -> list[str]:
    metrics = [charge.metric for charge in plan.usage_charges.all()]
    return [f"fee:{interval.value}"] + [f"usage:{metric}:{interval.value}" for metric in metrics]


def start_checkout(tenant: Tenant, plan: Plan, interval: Interval, *, success_url: str, cancel_url: str) -> str:
    """A Checkout Session (subscription mode) for ``plan``; returns the URL to send the owner to.

    The subscription is ours only when Stripe says so: checkout.session.completed (webhooks) links it.
    """
    client = stripe_client()
    customer_id = ensure_customer(tenant, client)
    line_items: list[dict[str, Any]] = []
    for position, price_id in enumerate(plan_price_ids(plan, interval)):
        line_items.append({"price": price_id, "quantity": 1} if position == 0 else {"price": price_id})
    metadata = {"localbazaar_tenant": str(tenant.pk), "localbazaar_plan": plan.code, "interval": interval.value}
    params: Any = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(tenant.pk),
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
    }
    session = client.v1.checkout.sessions.create(params=params)
    return str(session.url)


def portal_url(tenant: Tenant, return_url: str) -> str:
    """A Billing Portal session where the owner manages payment methods and sees Stripe's invoices."""
    client = stripe_client()
    session = client.v1.billing_portal.sessions.create(
        params={"customer": ensure_customer(tenant, client), "return_url": return_url}
    )
    return str(session.url)


def move_subscription_to_plan(subscription: Subscription, plan: Plan) -> None:
    """Swap the Stripe subscription's items for ``plan``'s Prices (prorated by Stripe)."""
    if not subscription.provider_subscription_id:
        return  # not paid through Checkout yet: the next Checkout is for the new plan
    client = stripe_client()
    remote = client.v1.subscriptions.retrieve(subscription.provider_subscription_id)
    new_prices = plan_price_ids(plan, Interval(subscription.interval))
    items: list[dict[str, Any]] = [{"id": item.id, "deleted": True} for item in remote["items"].data]
    items += [
        {"price": price_id, "quantity": 1} if n == 0 else {"price": price_id} for n, price_id in enumerate(new_prices)
    ]
    client.v1.subscriptions.update(
        subscription.provider_subscription_id,
        params=cast(
            Any,
            {"items": items, "proration_behavior": "create_prorations", "metadata": {"localbazaar_plan": plan.code}},
        ),
        options={"idempotency_key": f"lb-plan-{plan.code}-{remote['items'].data[0].id}"},
    )


def set_cancel_at_period_end(subscription: Subscription, cancel: bool) -> None:
    if subscription.provider_subscription_id:
        stripe_client().v1.subscriptions.update(
            subscription.provider_subscription_id, params={"cancel_at_period_end": cancel}
        )


def link_customer(tenant_id: int, customer_id: str) -> None:
    """Remember who pays for the store (from a webhook), once; a different customer is kept as it was."""
    with transaction.atomic():
        StripeCustomer.objects.get_or_create(tenant_id=tenant_id, defaults={"customer_id": customer_id})
