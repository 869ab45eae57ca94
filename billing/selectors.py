"""Reads of billing state: the public catalog, a store's subscription, its usage, its projected bill,
invoices, and what a plan change would cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db.models import Max, QuerySet, Sum
from django.db.models.functions import TruncDate

from billing import rating
from billing.errors import BillingError
from billing.models import AGGREGATION_OF, Aggregation, Invoice, InvoiceItem, Plan, Subscription, UsageEvent
from tenants.models import Tenant


def public_plans() -> QuerySet[Plan]:
    """The catalog shown to merchants, charges and tiers prefetched (three queries in all)."""
    return Plan.objects.filter(is_public=True).prefetch_related("usage_charges__tiers")


def public_plan(code: str) -> Plan | None:
    """The public plan with this code, or None (one query on the unique index)."""
    return Plan.objects.filter(code=code, is_public=True).first()


def public_plan_codes(tenancy: str | None = None) -> list[str]:
    plans = Plan.objects.filter(is_public=True)
    if tenancy:
        plans = plans.filter(tenancy=tenancy)
    return list(plans.values_list("code", flat=True))


def subscription_for(tenant_id: int, *, with_pricing: bool = False) -> Subscription | None:
    """The store's subscription and plan (one query); ``with_pricing`` adds the plan's charges and
    tiers (two more)."""
    subscriptions = Subscription.objects.select_related("plan").filter(tenant_id=tenant_id)
    if with_pricing:
        subscriptions = subscriptions.prefetch_related("plan__usage_charges__tiers")
    return subscriptions.first()


def usage_in_period(tenant_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """Each metric's quantity over [start, end): summed, or the peak for peak metrics (one query)."""
    rows = (
        UsageEvent.objects.filter(tenant_id=tenant_id, occurred_at__gte=start, occurred_at__lt=end)
        .values("metric")
        .annotate(total=Sum("quantity"), peak=Max("quantity"))
        .order_by()
    )
    return {
        row["metric"]: row["peak"] if AGGREGATION_OF[row["metric"]] == Aggregation.MAX else row["total"] for row in rows
    }


@dataclass(frozen=True)
class ProjectedInvoice:
    """What the current period would cost if it closed with the usage recorded so far."""

    subscription: Subscription
    usage: dict[str, int]
    invoice: rating.Invoice


def pending_items(subscription: Subscription) -> list[InvoiceItem]:
    """Amounts waiting for the subscription's next invoice (prorations), oldest first (one query)."""
    return list(InvoiceItem.objects.filter(subscription=subscription, invoice=None).order_by("pk"))


def projected_invoice(tenant: Tenant) -> ProjectedInvoice | None:
    """The invoice due when the current period ends, as things stand (five queries); None without a
    subscription.

    Fees are billed in advance and usage in arrears, so it holds the plan's fee for the next period
    (none if the subscription ends with this one), this period's usage so far, pending prorations, tax.
    """
    subscription = subscription_for(tenant.pk, with_pricing=True)
    if subscription is None:
        return None
    usage = usage_in_period(tenant.pk, subscription.current_period_start, subscription.current_period_end)
    adjustments = [
        rating.InvoiceLine(rating.LineKind(item.kind), item.description, item.amount, item.metric, item.quantity)
        for item in pending_items(subscription)
    ]
    invoice = rating.compute_invoice(
        subscription.plan.to_rating(),
        usage,
        rating.Interval(subscription.interval),
        adjustments=adjustments,
        tax_rate_bps=settings.BILLING_TAX_RATE_BPS,
        include_flat_fee=not subscription.cancel_at_period_end,
    )
    return ProjectedInvoice(subscription=subscription, usage=usage, invoice=invoice)


def invoices_for(tenant_id: int) -> QuerySet[Invoice]:
    return Invoice.objects.filter(tenant_id=tenant_id).order_by("-period_start", "-pk")


@dataclass(frozen=True)
class PlanChangePreview:
    """What moving a subscription to ``new_plan`` at ``effective_at`` costs: the old plan's fee for the
    rest of the period credited, the new plan's charged (on the next invoice)."""

    subscription: Subscription
    current_plan: Plan
    new_plan: Plan
    effective_at: datetime
    proration: rating.Invoice


def _fees_of(plan: Plan) -> rating.PlanPricing:
    # Proration concerns flat fees only; the usage charges need not be loaded.
    return rating.PlanPricing(plan.code, plan.name, plan.currency, plan.monthly_fee, plan.yearly_fee)


def preview_plan_change(
    subscription: Subscription, plan_code: str, at: datetime, *, across_tenancy: bool = False
) -> PlanChangePreview:
    """The proration of moving ``subscription`` to the public plan ``plan_code`` at ``at``.

    Raises BillingError when the change is not one a store can make itself. `across_tenancy`: a move
    between shared and dedicated plans, which only the upgrade of a store to its own stack makes.
    """
    current = subscription.plan
    if subscription.status == Subscription.Status.CANCELED:
        raise BillingError("This subscription is canceled; start a new one to choose a plan.", "subscription_canceled")
    new_plan = public_plan(plan_code.strip().lower())
    if new_plan is None:
        choices = ", ".join(public_plan_codes(current.tenancy))
        raise BillingError(f"Unknown plan '{plan_code}'; choose one of {choices}.", "unknown_plan")
    if new_plan.pk == current.pk:
        raise BillingError(f"The store is already on the {current.name} plan.", "same_plan")
    if new_plan.tenancy != current.tenancy and not across_tenancy:
        raise BillingError(
            f"The {new_plan.name} plan is for {new_plan.tenancy} hosting; moving between shared and dedicated "
            "hosting is arranged with our staff.",
            "plan_not_for_tenancy",
        )
    if new_plan.currency != current.currency:
        raise BillingError(f"The {new_plan.name} plan is billed in {new_plan.currency}.", "currency_change")
    proration = rating.prorate_plan_change(
        _fees_of(current),
        _fees_of(new_plan),
        rating.Interval(subscription.interval),
        subscription.current_period_start,
        subscription.current_period_end,
        at,
        tax_rate_bps=settings.BILLING_TAX_RATE_BPS,
    )
    return PlanChangePreview(subscription, current, new_plan, at, proration)


def daily_usage(tenant_id: int, metric: str, start: datetime, end: datetime) -> dict[date, int]:
    """Each UTC day's quantity of ``metric`` over [start, end): summed, or the day's peak (one query)."""
    aggregate = Max("quantity") if AGGREGATION_OF[metric] == Aggregation.MAX else Sum("quantity")
    rows = (
        UsageEvent.objects.filter(tenant_id=tenant_id, metric=metric, occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("day")
        .annotate(value=aggregate)
        .order_by("day")
    )
    return {row["day"]: row["value"] for row in rows}


def portal_plans(subscription: Subscription) -> QuerySet[Plan]:
    """The plans the owner may move to: public, same hosting and currency, not the current one."""
    plan = subscription.plan
    return Plan.objects.filter(is_public=True, tenancy=plan.tenancy, currency=plan.currency).exclude(pk=plan.pk)
