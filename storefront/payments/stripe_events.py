"""Stripe's Connect events about stores' payments: verified (billing's signature check, with the Connect
endpoint's own secret), routed to the store the connected account belongs to, applied once per event
id in that store's schema, in any order. A dedicated store's events are handed on to its own stack, which
reads them back from Stripe and applies them in its own database (storefront.payments.forwarding).

Order independence comes from re-fetching: an event only says which PaymentIntent, charge or account
changed; its state now is read back from Stripe and the order moved to match (through the orders
service, so stock and mails follow). A `payment_failed` arriving after `succeeded` finds the payment
succeeded and changes nothing; a payment that succeeds for an order already cancelled (its reservation
expired and its units sold) is refunded, never fulfilled.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django_tenants.utils import tenant_context

from billing.stripe_gateway.client import stripe_client
from storefront.orders import services as orders
from storefront.orders.models import Order
from storefront.payments import forwarding
from storefront.payments.models import PaymentEvent, StripeAccount
from storefront.payments.providers import PaymentFailed, payment_provider
from tenants.models import Tenant

logger = logging.getLogger(__name__)
HANDLED = (
    "account.updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
)
ACTOR = "stripe"
ACCOUNT_TENANT_SECONDS = 3600


def tenant_for_account(client: stripe.StripeClient, account_id: str) -> Tenant | None:
    """The store whose connected account this is: the account's own metadata, as the store's code wrote it
    when it made the account (read from Stripe; the platform's id of the store remembered for an hour)."""
    key = f"payments:account-tenant:{account_id}"
    tenant_id = cache.get(key)
    if tenant_id is None:
        try:
            account = client.v1.accounts.retrieve(account_id)
        except stripe.InvalidRequestError:
            return None
        tenant_id = _owner_id(account.to_dict().get("metadata") or {})
        cache.set(key, tenant_id, ACCOUNT_TENANT_SECONDS)
    return Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None


def _owner_id(metadata: dict[str, Any]) -> int:
    """The platform's id of the store named by an account's metadata, or 0. There is no other record of who
    owns an account: the store writes `localbazaar_store` (its slug, the same on the platform and on its own
    stack) and `localbazaar_tenant` (its id where it runs: the platform's for a shared store, but its stack's
    own row for a dedicated one, 1 on every stack). So a dedicated store is known by its slug, and a shared
    store must match both, as before."""
    slug = str(metadata.get("localbazaar_store") or "")
    tenant = Tenant.objects.filter(slug=slug).only("pk", "tenancy").first() if slug else None
    if tenant is None:
        return 0
    if tenant.is_dedicated or str(tenant.pk) == str(metadata.get("localbazaar_tenant") or ""):
        return int(tenant.pk)
    return 0


def process_connect_event(event: dict[str, Any], client: stripe.StripeClient | None = None) -> str:
    """Apply a Connect event once, in its store's schema; returns what happened (for the log and Stripe)."""
    account_id = event.get("account") or ""
    if not account_id:
        return "ignored: not about a connected account"
    if event.get("type") not in HANDLED:
        return "ignored"
    client = client or stripe_client()
    tenant = tenant_for_account(client, account_id)
    if tenant is None:
        return f"ignored: {account_id} is no store's account"
    if tenant.is_dedicated:
        # Its orders are in its own database: its stack re-fetches the event and applies it there.
        return forwarding.forward_event(tenant, str(event["id"]), account_id)
    with tenant_context(tenant):
        if not StripeAccount.objects.filter(account_id=account_id).exists():
            return f"ignored: {tenant.slug} has no account {account_id}"
        return _apply_once(client, account_id, event)


def apply_forwarded_event(event_id: str, account_id: str, client: stripe.StripeClient | None = None) -> str:
    """On a dedicated store's stack: the platform handed on an event of this store's account, by id only.
    The event itself is read back from Stripe on the store's own account (nothing the platform said is
    taken for it) and applied as the platform applies a shared store's, once per event id."""
    if not StripeAccount.objects.filter(account_id=account_id).exists():
        return f"ignored: this store has no account {account_id}"
    client = client or stripe_client()
    try:
        event = client.v1.events.retrieve(event_id, options={"stripe_account": account_id}).to_dict()
    except stripe.InvalidRequestError:
        return f"ignored: Stripe has no event {event_id} on {account_id}"
    if event.get("account") != account_id or event.get("type") not in HANDLED:
        return "ignored"
    return _apply_once(client, account_id, event)


def _apply_once(client: stripe.StripeClient, account_id: str, event: dict[str, Any]) -> str:
    """Apply `event` in the current schema, its id recorded in the same transaction: a redelivery finds it."""
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(event_id=event["id"], type=event["type"])
            outcome = _apply(client, account_id, event)
            PaymentEvent.objects.filter(event_id=event["id"]).update(outcome=outcome[:200])
    except IntegrityError:
        if PaymentEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        raise
    logger.info("stripe connect event", extra={"event": event["id"], "type": event["type"], "outcome": outcome})
    return outcome


def _apply(client: stripe.StripeClient, account_id: str, event: dict[str, Any]) -> str:
    options: Any = {"stripe_account": account_id}
    obj = event["data"]["object"]
    if event["type"] == "account.updated":
        account = client.v1.accounts.retrieve(account_id)
        StripeAccount.objects.filter(account_id=account_id).update(
            details_submitted=bool(account.details_submitted),
            charges_enabled=bool(account.charges_enabled),
            payouts_enabled=bool(account.payouts_enabled),
        )
        return f"account charges_enabled={bool(account.charges_enabled)}"
    if event["type"] == "charge.refunded":
        charge = client.v1.charges.retrieve(obj["id"], options=options)
        if not charge.refunded:
            return "partly refunded: left to the merchant"
        return _refunded(str(charge.payment_intent))
    intent = client.v1.payment_intents.retrieve(obj["id"], options=options)
    return _follow_intent(intent)


def _order_of(intent_id: str) -> Order | None:
    return Order.objects.filter(payment_provider="stripe", payment_reference=intent_id).first()


def _follow_intent(intent: Any) -> str:
    order = _order_of(intent.id)
    if order is None:
        # Paid before its checkout recorded the reference (a crash between the two): found by its metadata.
        order_id = (intent.to_dict().get("metadata") or {}).get("localbazaar_order")
        order = Order.objects.filter(pk=int(order_id), payment_provider="stripe").first() if order_id else None
        if order is None:
            return f"unknown payment {intent.id}"
        Order.objects.filter(pk=order.pk, payment_reference="").update(payment_reference=intent.id)
    if intent.status == "succeeded":
        return _succeeded(order, intent.id)
    if intent.status in ("canceled", "requires_payment_method") and order.status == Order.Status.PENDING_PAYMENT:
        error = (intent.to_dict().get("last_payment_error") or {}).get("message")
        reason = f"card payment failed: {error}" if error else f"card payment {intent.status}"
        orders.transition_order(order.pk, Order.Status.CANCELLED, actor=ACTOR, reason=reason)
        return f"order {order.number} cancelled ({reason})"
    return f"order {order.number} is {order.status}; payment {intent.status}"


def _succeeded(order: Order, intent_id: str) -> str:
    if order.status == Order.Status.PENDING_PAYMENT:
        try:
            with transaction.atomic():
                orders.transition_order(order.pk, Order.Status.PAID, actor=ACTOR, reason=f"card payment {intent_id}")
            return f"order {order.number} paid"
        except orders.SoldOut:
            # Paid after its reservation lapsed, and the units went to another buyer meanwhile.
            orders.transition_order(
                order.pk, Order.Status.CANCELLED, actor=ACTOR, reason="paid too late: the units were sold"
            )
            order.refresh_from_db()
    if order.status == Order.Status.CANCELLED:
        try:
            payment_provider("stripe").refund(intent_id, order.number)
        except PaymentFailed:
            raise stripe.APIConnectionError("The refund of a late payment did not go through.") from None
        return f"order {order.number} was cancelled: payment refunded"
    return f"order {order.number} already {order.status}"


def _refunded(intent_id: str) -> str:
    order = _order_of(intent_id)
    if order is None:
        return f"unknown payment {intent_id}"
    if order.status in (Order.Status.REFUNDED, Order.Status.CANCELLED, Order.Status.PENDING_PAYMENT):
        return f"order {order.number} already {order.status}"
    orders.transition_order(order.pk, Order.Status.REFUNDED, actor=ACTOR, reason="refunded on Stripe")
    return f"order {order.number} refunded"
