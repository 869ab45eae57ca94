"""Changes to billing state: starting subscriptions, changing plans, cancelling and resuming, paying,
recording usage. Period close lives in billing.invoicing and dunning in billing.dunning; their entry
points are importable from here too."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import usage_forwarding
from billing.dunning import mark_invoice_paid, mark_payment_failed
from billing.errors import BillingError
from billing.invoicing import CollectionOutcome, close_billing_period, collect_invoice
from billing.models import Invoice, InvoiceItem, Metric, Plan, Subscription, UsageEvent
from billing.providers import get_provider
from billing.rating import Interval, LineKind
from billing.selectors import PlanChangePreview, preview_plan_change
from billing.usage_batches import RowError, UsageEventIn, check_batch
from tenants import lifecycle
from tenants.db_backend import connection
from tenants.models import Tenant

logger = logging.getLogger(__name__)

__all__ = [
    "cancel_at_period_end",
    "change_plan",
    "close_billing_period",
    "mark_invoice_paid",
    "mark_payment_failed",
    "record_usage",
    "record_usage_batch",
    "resume_subscription",
    "retry_payment",
    "start_subscription",
]


def start_subscription(
    tenant: Tenant, plan: Plan, *, interval: Interval = Interval.MONTH, now: datetime | None = None
) -> Subscription:
    """Subscribe ``tenant`` to ``plan`` with the configured provider: one insert.

    Runs inside the caller's transaction (signup's), so a signup that rolls back leaves no subscription.
    The `local` provider starts it at once; the first period is anchored at ``now``.
    """
    if plan.tenancy != tenant.tenancy:
        raise BillingError(f"The {plan.name} plan is for {plan.tenancy} hosting.", "plan_not_for_tenancy")
    now = now or timezone.now()
    provider = get_provider()
    started = provider.start_subscription(tenant, plan, interval, now)
    return Subscription.objects.create(
        tenant=tenant,
        plan=plan,
        status=started.status,
        interval=interval,
        billing_anchor=started.period_start,
        current_period_start=started.period_start,
        current_period_end=started.period_end,
        provider=provider.name,
        provider_customer_id=started.customer_id,
        provider_subscription_id=started.subscription_id,
    )


def change_plan(
    tenant: Tenant, plan_code: str, *, now: datetime | None = None, across_tenancy: bool = False
) -> PlanChangePreview:
    """Move the store's subscription to another public plan now, keeping its billing period (`across_
    tenancy`: from a shared plan to a dedicated one, when the store moves to its own stack).

    The proration (credit for the old fee, charge for the new, over the seconds left) is kept as
    pending invoice items for the next invoice. The subscription row is locked for the change, so two
    concurrent changes are applied one after the other, each prorated from the plan it really left.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Locked alone, not joined to its plan: after a concurrent change commits, PostgreSQL re-checks the
        # locked row against the join's old plan row, and the row would vanish from the result.
        subscription = Subscription.objects.select_for_update().filter(tenant=tenant).first()
        if subscription is None:
            raise BillingError("This store has no subscription.", "no_subscription")
        change = preview_plan_change(subscription, plan_code, now, across_tenancy=across_tenancy)
        get_provider(subscription.provider).change_plan(subscription, change.new_plan, now)
        InvoiceItem.objects.bulk_create(
            InvoiceItem(
                subscription=subscription,
                kind=line.kind,
                description=line.description,
                amount=line.amount,
                currency=change.proration.currency,
                period_start=now,
                period_end=subscription.current_period_end,
            )
            # Tax is worked out on the whole invoice; a change at the period's end prorates nothing.
            for line in change.proration.lines
            if line.kind == LineKind.PRORATION and line.amount
        )
        subscription.plan = change.new_plan
        subscription.save(update_fields=["plan", "updated_at"])
        # The registry's copy, shown to staff in the console and staff API.
        lifecycle.record_plan(tenant, change.new_plan.code, by=lifecycle.Actor.system("billing"))
    logger.info(
        "plan changed",
        extra={"tenant": tenant.slug, "from": change.current_plan.code, "to": change.new_plan.code},
    )
    return change


def _locked(subscription: Subscription) -> Subscription:
    return Subscription.objects.select_for_update(of=("self",)).select_related("plan").get(pk=subscription.pk)


def cancel_at_period_end(subscription: Subscription) -> Subscription:
    """The subscription ends when its current period does (the last invoice bills the period's usage,
    no further fee); until then the store runs as before and the owner may resume. Idempotent."""
    with transaction.atomic():
        locked = _locked(subscription)
        if locked.status == Subscription.Status.CANCELED:
            raise BillingError("This subscription has already ended.", "subscription_canceled")
        if not locked.cancel_at_period_end:
            get_provider(locked.provider).set_cancel_at_period_end(locked, True)
            locked.cancel_at_period_end = True
            locked.save(update_fields=["cancel_at_period_end", "updated_at"])
    logger.info("subscription set to cancel at period end", extra={"tenant_id": locked.tenant_id})
    return locked


def resume_subscription(subscription: Subscription) -> Subscription:
    """Undo a pending cancellation: the subscription renews at the period's end as before. Idempotent;
    refused once the subscription has ended."""
    with transaction.atomic():
        locked = _locked(subscription)
        if locked.status == Subscription.Status.CANCELED:
            raise BillingError("This subscription has ended and cannot be resumed.", "subscription_canceled")
        if locked.cancel_at_period_end:
            get_provider(locked.provider).set_cancel_at_period_end(locked, False)
            locked.cancel_at_period_end = False
            locked.save(update_fields=["cancel_at_period_end", "updated_at"])
    logger.info("subscription resumed", extra={"tenant_id": locked.tenant_id})
    return locked


def retry_payment(subscription: Subscription, *, now: datetime | None = None) -> list[CollectionOutcome]:
    """Collect the subscription's open invoices again, oldest first (the portal's "retry payment");
    paying the last one ends dunning and reopens a store closed for it."""
    if not get_provider(subscription.provider).issues_invoices:
        raise BillingError("Payments are retried by the payment provider; update your payment method.", "not_local")
    open_invoices = Invoice.objects.filter(subscription=subscription, status=Invoice.Status.OPEN)
    invoices = list(open_invoices.select_related("subscription__plan", "tenant").order_by("period_start", "pk"))
    if not invoices:
        raise BillingError("There is nothing to pay: every invoice is paid.", "nothing_due")
    return [collect_invoice(invoice, now) for invoice in invoices]


# Every transaction recording usage holds this advisory lock shared; closing a metering window takes
# it exclusively for an instant (wait_for_usage_in_flight), so no usage can commit behind a closed window.
USAGE_RECORDING_LOCK = 0x4C42_5553_4147  # "LBUSAG"


@dataclass(frozen=True)
class RecordedUsage:
    event_id: int
    created: bool  # False: a replay of an event already recorded, nothing was added


@dataclass(frozen=True)
class RecordedBatch:
    accepted: int  # events recorded now
    duplicates: int  # replays of events already recorded (or repeated in the batch): nothing added
    event_ids: dict[tuple[int, str], int]  # (tenant id, idempotency key) -> the event's id


class UsageRefused(BillingError):
    """A batch refused as a whole (nothing recorded), with why each refused event was."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        message = (
            first.message if len(errors) == 1 else f"{len(errors)} usage events were refused; nothing was recorded."
        )
        super().__init__(message, first.code)
        self.errors = errors


def record_usage(
    tenant_id: int, metric: str, quantity: int, *, idempotency_key: str, occurred_at: datetime | None = None
) -> RecordedUsage:
    """Record ``quantity`` of ``metric`` for a store, once per ``idempotency_key``: a batch of one.

    A replay (a retried request, a redelivered task) with the same key adds nothing and answers the
    first event; the same key with different usage is a sender's bug and is refused.
    """
    batch = record_usage_batch([UsageEventIn(tenant_id, metric, quantity, idempotency_key, occurred_at)])
    return RecordedUsage(event_id=batch.event_ids[(tenant_id, idempotency_key)], created=batch.accepted == 1)


def record_usage_batch(events: Sequence[UsageEventIn]) -> RecordedBatch:
    """Record up to MAX_BATCH_SIZE usage events (of any stores), each once per store and idempotency key.

    All or nothing: an event breaking a rule (unknown metric, bad quantity or key, stamped in the
    future, a key already used for other usage) refuses the whole batch with UsageRefused, which lists
    every refused event. Replays of recorded events add nothing and are counted as duplicates, so a
    retried batch is harmless. One multi-row INSERT ... ON CONFLICT DO NOTHING (rows in key order, so
    concurrent batches sharing keys wait for each other instead of deadlocking); a second query only
    when some keys were seen before, to check they name the same usage.
    """
    now = timezone.now()
    errors = check_batch(events, metrics=Metric.values, now=now)
    if errors:
        raise UsageRefused(errors)
    if not events:
        return RecordedBatch(0, 0, {})
    unique: dict[tuple[int, str], UsageEventIn] = {}
    position: dict[tuple[int, str], int] = {}
    for index, event in enumerate(events):
        unique.setdefault((event.tenant_id, event.idempotency_key), event)
        position.setdefault((event.tenant_id, event.idempotency_key), index)
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    # On the platform usage is on the bill once recorded; a dedicated stack's waits for usage_forwarding.
    forwarded_at = "NULL" if usage_forwarding.is_forwarding_stack() else "statement_timestamp()"
    with transaction.atomic(), connection.cursor() as cursor:
        # recorded_at is the INSERT's own start, after the lock: a window closed before it cannot miss it.
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [USAGE_RECORDING_LOCK])
        values = b",".join(
            cursor.cursor.mogrify(
                f"(%s, %s, %s, %s, %s, statement_timestamp(), {forwarded_at})",
                (key[0], e.metric, e.quantity, e.occurred_at or now, key[1]),
            )
            for key, e in sorted(unique.items(), key=lambda item: item[0])
        ).decode()
        # No parameters: the values are already quoted, and a % in a key stays as it is.
        cursor.execute(
            f"INSERT INTO {table}"
            " (tenant_id, metric, quantity, occurred_at, idempotency_key, recorded_at, forwarded_at)"
            f" VALUES {values} ON CONFLICT (tenant_id, idempotency_key) DO NOTHING"
            " RETURNING tenant_id, idempotency_key, id"
        )
        event_ids = {(tenant_id, key): event_id for tenant_id, key, event_id in cursor.fetchall()}
        accepted = len(event_ids)
        if accepted < len(unique):
            event_ids.update(_recorded_before(unique, position, event_ids))
    return RecordedBatch(accepted=accepted, duplicates=len(events) - accepted, event_ids=event_ids)


def _recorded_before(
    unique: dict[tuple[int, str], UsageEventIn],
    position: dict[tuple[int, str], int],
    inserted: dict[tuple[int, str], int],
) -> dict[tuple[int, str], int]:
    """The ids of the batch's events recorded before it; refuses the batch (its transaction rolls back)
    if a key was used for other usage."""
    keys_of: dict[int, list[str]] = {}
    for tenant_id, key in unique.keys() - inserted.keys():
        keys_of.setdefault(tenant_id, []).append(key)
    query = Q()
    for tenant_id, keys in keys_of.items():
        query |= Q(tenant_id=tenant_id, idempotency_key__in=keys)
    recorded = {
        (row.tenant_id, row.idempotency_key): row
        for row in UsageEvent.objects.filter(query).only("tenant_id", "idempotency_key", "metric", "quantity")
    }
    errors = [
        RowError(
            position[key],
            "idempotency_key_reused",
            f"Idempotency key '{key[1]}' was already used for {row.quantity} {row.metric}.",
            "idempotency_key",
        )
        for key, row in recorded.items()
        if (row.metric, row.quantity) != (unique[key].metric, unique[key].quantity)
    ]
    if errors:
        raise UsageRefused(sorted(errors, key=lambda error: error.index))
    return {key: row.pk for key, row in recorded.items()}


def wait_for_usage_in_flight() -> None:
    """Return once every transaction recording usage that started before this call has ended; usage
    recorded after it is stamped later than now. Takes the recording lock exclusively for an instant, in
    one statement (safe behind a transaction-pooling PgBouncer)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_unlock(%s) FROM (SELECT pg_advisory_lock(%s) OFFSET 0) AS locked",
            [USAGE_RECORDING_LOCK, USAGE_RECORDING_LOCK],
        )
