"""Dunning: what happens when collection fails, and when the money comes in.

Failed collection makes the subscription `past_due` (the owner is mailed, the admin shows a banner);
after BILLING_GRACE_DAYS the store is closed to buyers ("payment overdue"), its data untouched and its
owner still able to reach the admin and pay; paying reopens it. Billing only ever lifts a closure it
placed itself (recorded as the subscription's ``billing_hold``): a suspension staff placed for another
reason stays.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.models import BillingHold, Invoice, Subscription
from tenants import lifecycle
from tenants.models import Tenant
from tenants.routing import store_url

logger = logging.getLogger(__name__)

# The reasons buyers read on the closed store's page; also how billing recognises its own closures.
HOLD_REASONS = {
    BillingHold.PAYMENT_OVERDUE: "Payment overdue: the store's subscription has an unpaid invoice.",
    BillingHold.ENDED: "The store's subscription has ended.",
}


def _locked_subscription(subscription: Subscription) -> Subscription:
    return Subscription.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=subscription.pk)


def _mail_owner(tenant: Tenant, template: str, context: dict[str, object]) -> None:
    """Mail the store's owner once the transaction commits (never for a change that rolled back)."""
    context = {"tenant": tenant, "portal_url": f"{store_url(tenant.slug)}admin/billing/", **context}
    subject = render_to_string(f"billing/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"billing/email/{template}.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [tenant.owner_email]))


def mark_payment_failed(
    subscription: Subscription, invoice: Invoice | None = None, *, now: datetime | None = None, error: str = ""
) -> Subscription:
    """Collection failed: the subscription becomes past due and dunning starts (once: a repeated
    failure keeps the first failure's date, from which the grace period counts)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_subscription(subscription)
        if invoice is not None:
            Invoice.objects.filter(pk=invoice.pk).update(last_collection_error=error[:200])
        if locked.status == Subscription.Status.CANCELED:
            return locked
        first_failure = locked.payment_failed_at is None
        locked.status = Subscription.Status.PAST_DUE
        locked.payment_failed_at = locked.payment_failed_at or now
        locked.save(update_fields=["status", "payment_failed_at", "updated_at"])
        if first_failure:
            grace_ends = locked.payment_failed_at + timedelta(days=settings.BILLING_GRACE_DAYS)
            _mail_owner(locked.tenant, "payment_failed", {"invoice": invoice, "error": error, "grace_ends": grace_ends})
    logger.info("payment failed", extra={"tenant_id": locked.tenant_id, "error": error})
    return locked


def mark_invoice_paid(invoice: Invoice, *, now: datetime | None = None) -> Invoice:
    """The invoice is paid (collected, paid by staff, or Stripe's `invoice.paid`). Once nothing is left
    open, a past-due subscription is active again and a store billing closed for it reopens.
    Idempotent: a paid invoice is left as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status != Invoice.Status.PAID:
            locked.status, locked.paid_at, locked.last_collection_error = Invoice.Status.PAID, now, ""
            locked.save(update_fields=["status", "paid_at", "last_collection_error"])
        settle_account(locked.subscription, now=now)
    return locked


def settle_account(subscription: Subscription, *, now: datetime | None = None) -> Subscription:
    """With no invoice left open: out of dunning, and the payment hold (if any) lifted."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked_subscription(subscription)
        if Invoice.objects.filter(subscription=locked, status=Invoice.Status.OPEN).exists():
            return locked
        was_past_due = locked.status == Subscription.Status.PAST_DUE
        if was_past_due:
            locked.status = Subscription.Status.ACTIVE
        locked.payment_failed_at = None
        lifted = locked.billing_hold == BillingHold.PAYMENT_OVERDUE
        if lifted:
            _lift_hold(locked)
        locked.save(update_fields=["status", "payment_failed_at", "billing_hold", "billing_hold_at", "updated_at"])
        if was_past_due:
            _mail_owner(locked.tenant, "payment_received", {"reopened": lifted})
    return locked


def _place_hold(subscription: Subscription, hold: BillingHold, now: datetime) -> bool:
    """Close the store for ``hold`` unless it is already closed (staff's suspension is left as it is:
    billing never records a hold it did not place, so paying cannot lift staff's)."""
    tenant = Tenant.objects.select_for_update().get(pk=subscription.tenant_id)
    if tenant.status != Tenant.Status.ACTIVE:
        return False
    lifecycle.suspend(tenant, HOLD_REASONS[hold], by=lifecycle.Actor.system("billing"))
    subscription.billing_hold, subscription.billing_hold_at = hold, now
    return True


def _lift_hold(subscription: Subscription) -> None:
    tenant = Tenant.objects.select_for_update().get(pk=subscription.tenant_id)
    reason = HOLD_REASONS.get(BillingHold(subscription.billing_hold))
    # Staff may have suspended it again since, for their own reason: that stays.
    if tenant.status == Tenant.Status.SUSPENDED and tenant.suspension_reason == reason:
        lifecycle.reactivate(tenant, by=lifecycle.Actor.system("billing"), reason="payment received")
    subscription.billing_hold, subscription.billing_hold_at = "", None


def enforce_grace_period(now: datetime | None = None) -> int:
    """The beat job: close the stores whose payment has been overdue longer than BILLING_GRACE_DAYS.
    Returns how many were closed. Safe to run concurrently (SKIP LOCKED) and again."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BILLING_GRACE_DAYS)
    closed = 0
    with transaction.atomic():
        overdue = Subscription.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=Subscription.Status.PAST_DUE, payment_failed_at__lte=cutoff, billing_hold=""
        )
        for subscription in overdue.select_related("tenant").order_by("pk"):
            if _place_hold(subscription, BillingHold.PAYMENT_OVERDUE, now):
                subscription.save(update_fields=["billing_hold", "billing_hold_at", "updated_at"])
                _mail_owner(subscription.tenant, "store_suspended", {"failed_at": subscription.payment_failed_at})
                closed += 1
    if closed:
        logger.info("stores closed for overdue payment", extra={"count": closed})
    return closed


def end_subscription(subscription: Subscription, now: datetime) -> None:
    """A subscription cancelled at its period's end ends now: canceled, and the store closed to buyers
    (its data kept; the owner can still reach the admin; staff can reopen it). Runs in the period
    close's transaction, with the subscription locked."""
    subscription.status, subscription.canceled_at = Subscription.Status.CANCELED, now
    _place_hold(subscription, BillingHold.ENDED, now)
    subscription.save(update_fields=["status", "canceled_at", "billing_hold", "billing_hold_at", "updated_at"])
    _mail_owner(subscription.tenant, "subscription_ended", {})


def billing_notice(subscription: Subscription) -> str | None:
    """What the owner must know about the account right now (the admin banner, the API's ``notice``)."""
    if subscription.billing_hold == BillingHold.PAYMENT_OVERDUE:
        return "Your store is closed to buyers because a payment is overdue. Pay the open invoice to reopen it."
    if subscription.billing_hold == BillingHold.ENDED or subscription.status == Subscription.Status.CANCELED:
        return "Your subscription has ended and your store is closed to buyers."
    if subscription.status == Subscription.Status.PAST_DUE and subscription.payment_failed_at:
        deadline = subscription.payment_failed_at + timedelta(days=settings.BILLING_GRACE_DAYS)
        return (
            f"Your last payment failed. Pay the open invoice by {deadline:%d %B %Y} to keep your store open to buyers."
        )
    if subscription.cancel_at_period_end:
        return f"Your subscription ends on {subscription.current_period_end:%d %B %Y}; resume it to keep your store."
    return None
