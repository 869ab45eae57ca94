"""Stripe's webhooks: verified with the signing secret, each event processed once, in any order.

Order independence comes from re-fetching: an event only says *which* subscription or invoice changed;
its current state is read back from Stripe and applied, so events arriving late, twice, shuffled or
replayed (``replay_stripe_events``) all converge on Stripe's state. Dunning itself is billing's
(billing.dunning); this module tells it what Stripe decided.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import dunning
from billing.models import Plan, Subscription
from billing.stripe_gateway.client import stripe_client
from billing.stripe_gateway.models import StripeCustomer, WebhookEvent
from tenants.models import Tenant
from tenants.routing import forget_tenant_routes

logger = logging.getLogger(__name__)

HANDLED = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
)
# Stripe's subscription statuses in ours; the ones not listed leave ours as it is.
STATUS_OF = {
    "active": Subscription.Status.ACTIVE,
    "trialing": Subscription.Status.TRIALING,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.CANCELED,
    "incomplete_expired": Subscription.Status.CANCELED,
}


class BadSignature(Exception):
    pass


class NoSigningSecret(Exception):
    """STRIPE_WEBHOOK_SECRET is empty: nothing can be verified (a signature with "" is anyone's to make)."""


def verified_event(
    payload: bytes,
    signature: str,
    *,
    secret_setting: str = "STRIPE_WEBHOOK_SECRET",  # noqa: S107 - a name
) -> dict[str, Any]:
    """The event in ``payload`` if its ``Stripe-Signature`` is the signing secret's (the setting named
    ``secret_setting``: each webhook endpoint has its own) and was made within
    STRIPE_WEBHOOK_TOLERANCE_SECONDS (a captured delivery cannot be replayed later); else BadSignature."""
    secret = str(getattr(settings, secret_setting, "")).strip()
    if not secret:
        raise NoSigningSecret(f"{secret_setting} is not set; these Stripe webhooks are not accepted.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode(), signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error)) from None
    return json.loads(payload)


def process_event(event: dict[str, Any], client: stripe.StripeClient | None = None) -> str:
    """Apply ``event`` once: its id is recorded in the transaction that applies it, so a redelivery
    answers "duplicate" and a failure (Stripe unreachable) rolls both back for Stripe to retry."""
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                stripe_created=datetime.fromtimestamp(event["created"], tz=UTC),
            )
            outcome = _apply(event, client) if event["type"] in HANDLED else "ignored"
            WebhookEvent.objects.filter(event_id=event["id"]).update(outcome=outcome[:200])
    except IntegrityError:
        if WebhookEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        raise
    logger.info("stripe event", extra={"event": event["id"], "type": event["type"], "outcome": outcome})
    return outcome


def _apply(event: dict[str, Any], client: stripe.StripeClient | None) -> str:
    client = client or stripe_client()
    obj = event["data"]["object"]
    if event["type"] == "checkout.session.completed":
        tenant_id = int(obj.get("client_reference_id") or obj["metadata"]["localbazaar_tenant"])
        if obj.get("customer"):
            StripeCustomer.objects.get_or_create(tenant_id=tenant_id, defaults={"customer_id": obj["customer"]})
        if not obj.get("subscription"):
            return "no subscription"
        return sync_subscription(client, obj["subscription"], tenant_id=tenant_id)
    if event["type"].startswith("customer.subscription."):
        return sync_subscription(client, obj["id"])
    invoice = client.v1.invoices.retrieve(obj["id"]).to_dict()
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    if not details.get("subscription"):
        return "not a subscription's invoice"
    return sync_subscription(client, details["subscription"])


def _tenant_for(remote: Any, tenant_id: int | None) -> Tenant | None:
    metadata = remote.get("metadata") or {}
    tenant_id = tenant_id or (int(metadata["localbazaar_tenant"]) if metadata.get("localbazaar_tenant") else None)
    if tenant_id is None:
        tenant_id = (
            StripeCustomer.objects.filter(customer_id=remote["customer"]).values_list("tenant_id", flat=True).first()
        )
    return Tenant.objects.filter(pk=tenant_id).first() if tenant_id else None


def _plan_of(remote: Any) -> tuple[Plan | None, str]:
    """The plan and interval of the subscription's licensed (fee) Price."""
    for item in remote["items"]["data"]:
        price = item["price"]
        if (price.get("recurring") or {}).get("usage_type") != "metered":
            code = (price.get("metadata") or {}).get("localbazaar_plan")
            return Plan.objects.filter(code=code).first(), price["recurring"]["interval"]
    return None, ""


def sync_subscription(client: stripe.StripeClient, subscription_id: str, *, tenant_id: int | None = None) -> str:
    """Make our subscription say what Stripe's says now (re-fetched, so any event order converges)."""
    remote = client.v1.subscriptions.retrieve(subscription_id).to_dict()
    tenant = _tenant_for(remote, tenant_id)
    if tenant is None:
        return f"unknown store for {subscription_id}"
    now = timezone.now()
    with transaction.atomic():
        local = Subscription.objects.select_for_update().filter(tenant=tenant).first()
        if local is None:
            return f"store {tenant.pk} has no subscription"
        status = STATUS_OF.get(remote["status"])
        linked = local.provider_subscription_id
        if linked and linked != remote["id"]:
            if status in (None, Subscription.Status.CANCELED):
                return f"ignored: {remote['id']} ended, the store pays through {linked}"
        local.provider = "stripe"
        local.provider_customer_id = remote["customer"]
        local.provider_subscription_id = remote["id"]
        plan, interval = _plan_of(remote)
        plan_changed = plan is not None and plan.pk != local.plan_id
        if plan is not None:
            local.plan, local.interval = plan, interval
        items = remote["items"]["data"]
        if items:
            local.current_period_start = datetime.fromtimestamp(items[0]["current_period_start"], tz=UTC)
            local.current_period_end = datetime.fromtimestamp(items[0]["current_period_end"], tz=UTC)
            if not linked:
                local.billing_anchor = local.current_period_start
        local.cancel_at_period_end = bool(remote.get("cancel_at_period_end"))
        local.save()
        if plan_changed:
            Tenant.objects.filter(pk=tenant.pk).update(plan_code=plan.code)  # type: ignore[union-attr]
            transaction.on_commit(lambda: forget_tenant_routes(tenant))
        _apply_status(local, status, remote, now)
    return f"{remote['id']} {remote['status']}"


def _apply_status(local: Subscription, status: Subscription.Status | None, remote: Any, now: datetime) -> None:
    """Status moves through billing's dunning, so mails and store holds follow Stripe's decisions."""
    if status is None or status == local.status:
        return
    if status == Subscription.Status.CANCELED:
        ended = remote.get("ended_at") or remote.get("canceled_at")
        dunning.end_subscription(local, datetime.fromtimestamp(ended, tz=UTC) if ended else now)
    elif status == Subscription.Status.PAST_DUE:
        dunning.mark_payment_failed(local, now=now, error="Stripe could not collect the latest invoice.")
    elif local.status == Subscription.Status.PAST_DUE:
        dunning.settle_account(local, now=now)
        Subscription.objects.filter(pk=local.pk).update(status=status)
    elif local.status != Subscription.Status.CANCELED:
        Subscription.objects.filter(pk=local.pk).update(status=status)


def replay_events(days: int = 3, client: stripe.StripeClient | None = None) -> dict[str, int]:
    """Process the last ``days`` of Stripe's events, oldest first; processed ones are skipped by id."""
    client = client or stripe_client()
    since = int((timezone.now() - timedelta(days=days)).timestamp())
    events = client.v1.events.list(params={"created": {"gte": since}, "types": list(HANDLED), "limit": 100})
    ordered = sorted(events.auto_paging_iter(), key=lambda e: e["created"])
    counts: dict[str, int] = {"processed": 0, "duplicate": 0}
    for event in ordered:
        outcome = process_event(event.to_dict(for_json=True), client)
        counts["duplicate" if outcome == "duplicate" else "processed"] += 1
    return counts
