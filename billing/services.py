"""Changes to billing state: starting subscriptions, changing plans, recording usage."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from billing.errors import BillingError
from billing.models import InvoiceItem, Metric, Plan, Subscription, UsageEvent
from billing.providers import get_provider
from billing.rating import Interval, LineKind
from billing.selectors import PlanChangePreview, preview_plan_change
from config.db_backend import connection
from tenants.models import Tenant
from tenants.routing import forget_tenant_routes

logger = logging.getLogger(__name__)


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


def change_plan(tenant: Tenant, plan_code: str, *, now: datetime | None = None) -> PlanChangePreview:
    """Move the store's subscription to another public plan now, keeping its billing period.

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
        change = preview_plan_change(subscription, plan_code, now)
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
        Tenant.objects.filter(pk=tenant.pk).update(plan_code=change.new_plan.code)
        transaction.on_commit(lambda: forget_tenant_routes(tenant))
    logger.info(
        "plan changed",
        extra={"tenant": tenant.slug, "from": change.current_plan.code, "to": change.new_plan.code},
    )
    return change


# Usage stamped further ahead than this is a sender's broken clock, not usage.
USAGE_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class RecordedUsage:
    event_id: int
    created: bool  # False: a replay of an event already recorded, nothing was added


def record_usage(
    tenant_id: int, metric: str, quantity: int, *, idempotency_key: str, occurred_at: datetime | None = None
) -> RecordedUsage:
    """Record ``quantity`` of ``metric`` for a store, once per ``idempotency_key``.

    A replay (a retried request, a redelivered task) with the same key adds nothing and answers the
    first event; the same key with different usage is a sender's bug and is refused. One round trip:
    INSERT ... ON CONFLICT DO NOTHING, so concurrent replays cannot both insert.
    """
    if metric not in Metric.values:
        raise BillingError(f"Unknown metric '{metric}'; one of {', '.join(Metric.values)}.", "unknown_metric")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise BillingError(f"A usage quantity is a non-negative whole number, not {quantity!r}.", "bad_quantity")
    if not 0 < len(idempotency_key) <= 100:
        raise BillingError("Usage needs an idempotency key of 1 to 100 characters.", "bad_idempotency_key")
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + USAGE_CLOCK_SKEW:
        raise BillingError(f"Usage at {occurred_at.isoformat()} is in the future.", "usage_in_future")
    table = connection.ops.quote_name(UsageEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, metric, quantity, occurred_at, idempotency_key, recorded_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
            [tenant_id, metric, quantity, occurred_at, idempotency_key, now],
        )
        row = cursor.fetchone()
    if row is not None:
        return RecordedUsage(event_id=row[0], created=True)
    first = UsageEvent.objects.get(tenant_id=tenant_id, idempotency_key=idempotency_key)
    if (first.metric, first.quantity) != (metric, quantity):
        raise BillingError(
            f"Idempotency key '{idempotency_key}' was already used for {first.quantity} {first.metric}.",
            "idempotency_key_reused",
        )
    return RecordedUsage(event_id=first.pk, created=False)
