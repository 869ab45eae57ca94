"""Billing records in the `public` schema: the plan catalog (plans, usage charges, tiers).

Money is integer minor units of the plan's currency; unit prices may be fractions of a minor unit
(``unit_amount``, four decimal places) and are rounded once per invoice line by billing.rating.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import F, Q

from billing import rating
from tenants.models import Tenant

_T = TypeVar("_T")


class Metric(models.TextChoices):
    ORDERS = "orders", "Orders"
    GMV = "gmv", "Gross merchandise value (minor units)"
    API_REQUESTS = "api_requests", "API requests"
    STORAGE_GB = "storage_gb", "Media storage (peak GB)"


class Aggregation(models.TextChoices):
    COUNT = "count", "Count"  # how many: the sum of the events' quantities (1 each, or a batch's size)
    SUM = "sum", "Sum"
    MAX = "max", "Peak"


# How a period's events of each metric become the one quantity that is rated.
AGGREGATION_OF: dict[str, Aggregation] = {
    Metric.ORDERS: Aggregation.COUNT,
    Metric.GMV: Aggregation.SUM,
    Metric.API_REQUESTS: Aggregation.COUNT,
    Metric.STORAGE_GB: Aggregation.MAX,
}


class Plan(models.Model):
    """What a store pays for: a flat fee per month or year, usage charges, and the limits it comes with."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    tenancy = models.CharField(max_length=16, choices=Tenant.Tenancy.choices, default=Tenant.Tenancy.SHARED)
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code, e.g. GBP.")
    monthly_fee = models.PositiveIntegerField(help_text="Minor units (pence) per month.")
    yearly_fee = models.PositiveIntegerField(help_text="Minor units (pence) per year.")
    is_public = models.BooleanField(default=True, help_text="Listed in the catalog and open to signup.")
    sort_order = models.PositiveSmallIntegerField(default=0)
    # Limits: empty means unlimited.
    max_products = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    staff_seats = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    custom_domains = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    # The platform's application fee on each card payment a buyer makes to the store (Stripe Connect).
    card_fee_bps = models.PositiveSmallIntegerField(
        default=0, help_text="Platform fee on buyers' card payments, in basis points (100 = 1%)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="plan_currency_iso",
                violation_error_message="Use a three-letter ISO 4217 currency code in capitals, e.g. GBP.",
            ),
            models.CheckConstraint(condition=Q(tenancy__in=["shared", "dedicated"]), name="plan_tenancy_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def to_rating(self) -> rating.PlanPricing:
        """The plan as the rating engine sees it (prefetch ``usage_charges__tiers`` to avoid N+1)."""
        return rating.PlanPricing(
            code=self.code,
            name=self.name,
            currency=self.currency,
            monthly_fee=self.monthly_fee,
            yearly_fee=self.yearly_fee,
            usage_charges=tuple(charge.to_rating() for charge in self.usage_charges.all()),
        )


class PricingModel(models.TextChoices):
    PER_UNIT = "per_unit", "Per unit"
    GRADUATED = "graduated", "Graduated tiers"
    VOLUME = "volume", "Volume tiers"
    PACKAGE = "package", "Package"
    PERCENTAGE = "percentage", "Percentage (basis points)"


TIERED_MODELS = (PricingModel.GRADUATED, PricingModel.VOLUME)


class UsageCharge(models.Model):
    """How a plan charges one metric: an included allowance, then a pricing model."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="usage_charges")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    pricing = models.CharField(max_length=16, choices=PricingModel.choices)
    included = models.PositiveBigIntegerField(default=0, help_text="Units free each period.")
    unit_amount = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, help_text="Per unit: minor units per unit."
    )
    package_size = models.PositiveIntegerField(null=True, blank=True, help_text="Package: units per package.")
    package_amount = models.PositiveIntegerField(null=True, blank=True, help_text="Package: minor units each.")
    percentage_bps = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Percentage: basis points of GMV (150 = 1.5 %)."
    )

    class Meta:
        ordering = ["plan", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "metric"], name="usage_charge_one_per_metric"),
            models.CheckConstraint(condition=Q(metric__in=[m.value for m in Metric]), name="usage_charge_metric_valid"),
            # Exactly the fields of the chosen pricing model are set (tiers live in UsageTier).
            models.CheckConstraint(
                condition=(
                    Q(pricing=PricingModel.PER_UNIT, unit_amount__isnull=False, unit_amount__gte=0)
                    & Q(package_size=None, package_amount=None, percentage_bps=None)
                )
                | (
                    Q(pricing__in=TIERED_MODELS, unit_amount=None)
                    & Q(package_size=None, package_amount=None, percentage_bps=None)
                )
                | (
                    Q(pricing=PricingModel.PACKAGE, unit_amount=None, percentage_bps=None)
                    & Q(package_size__isnull=False, package_size__gte=1, package_amount__isnull=False)
                )
                | (
                    Q(pricing=PricingModel.PERCENTAGE, unit_amount=None, package_size=None, package_amount=None)
                    & Q(percentage_bps__isnull=False, percentage_bps__lte=rating.BASIS_POINTS)
                ),
                name="usage_charge_fields_match_pricing",
                violation_error_message=(
                    "Fill in exactly the fields of the pricing model: per unit: unit amount; package: size and "
                    "amount; percentage: basis points (at most 10000); graduated/volume: none (add tiers)."
                ),
            ),
            # GMV is money: it is charged as a share, and a share of anything else makes no sense.
            models.CheckConstraint(
                condition=Q(metric=Metric.GMV, pricing=PricingModel.PERCENTAGE)
                | (~Q(metric=Metric.GMV) & ~Q(pricing=PricingModel.PERCENTAGE)),
                name="usage_charge_percentage_is_for_gmv",
                violation_error_message="GMV is charged as a percentage, and only GMV is.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.metric} ({self.pricing})"

    @property
    def aggregation(self) -> Aggregation:
        return AGGREGATION_OF[self.metric]

    def to_rating(self, tiers: list[rating.Tier] | None = None) -> rating.UsageCharge:
        """The charge as the rating engine sees it; raises rating.PricingError if it cannot be rated.

        ``tiers`` stands in for the saved tiers (the admin checks tiers before saving them).
        """
        if tiers is None:
            tiers = [tier.to_rating() for tier in self.tiers.all()]
        pricing: rating.Pricing
        if self.pricing in TIERED_MODELS:
            tier_class = rating.Graduated if self.pricing == PricingModel.GRADUATED else rating.Volume
            pricing = tier_class(tuple(tiers))
        elif tiers:
            raise rating.PricingError(f"Only graduated and volume pricing have tiers, not {self.pricing}.")
        elif self.pricing == PricingModel.PER_UNIT:
            pricing = rating.PerUnit(_required(self.unit_amount, "a unit amount"))
        elif self.pricing == PricingModel.PACKAGE:
            size, amount = _required(self.package_size, "a size"), _required(self.package_amount, "an amount")
            pricing = rating.Package(size, amount)
        else:
            pricing = rating.Percentage(_required(self.percentage_bps, "basis points"))
        return rating.UsageCharge(metric=self.metric, pricing=pricing, included=self.included)


def _required(value: _T | None, what: str) -> _T:
    if value is None:
        raise rating.PricingError(f"This pricing model needs {what}.")
    return value


class UsageTier(models.Model):
    """One tier of a graduated or volume charge: units up to ``up_to`` (empty: no bound, the last tier)."""

    charge = models.ForeignKey(UsageCharge, on_delete=models.CASCADE, related_name="tiers")
    up_to = models.PositiveBigIntegerField(null=True, blank=True, help_text="Empty: unbounded (the last tier).")
    unit_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    flat_amount = models.PositiveIntegerField(default=0, help_text="Minor units, once per period if reached.")

    class Meta:
        ordering = ["charge", F("up_to").asc(nulls_last=True)]
        constraints = [
            # NULLS NOT DISTINCT: one unbounded tier per charge.
            models.UniqueConstraint(fields=["charge", "up_to"], nulls_distinct=False, name="usage_tier_bounds_unique"),
            models.CheckConstraint(condition=Q(up_to__gte=1) | Q(up_to=None), name="usage_tier_up_to_positive"),
            models.CheckConstraint(condition=Q(unit_amount__gte=0), name="usage_tier_unit_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"up to {self.up_to or '∞'}: {self.unit_amount} + {self.flat_amount}"

    def to_rating(self) -> rating.Tier:
        return rating.Tier(up_to=self.up_to, unit_amount=self.unit_amount, flat_amount=self.flat_amount)


class BillingHold(models.TextChoices):
    """Why billing closed a store to buyers (its data untouched; the owner still reaches the admin)."""

    PAYMENT_OVERDUE = "payment_overdue", "Payment overdue"
    ENDED = "ended", "Subscription ended"


class Subscription(models.Model):
    """A store's subscription to a plan: the current period and who collects the money."""

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trialing"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"

    # Public-to-public keys are fine: the registry and billing move together (tenant apps hold none).
    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    interval = models.CharField(
        max_length=8,
        choices=[(i.value, f"{i.value.title()}ly") for i in rating.Interval],
        default=rating.Interval.MONTH.value,
    )
    # Periods are counted from the anchor (billing.periods), so month ends do not drift.
    billing_anchor = models.DateTimeField()
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=16, help_text="The payment provider that collects: local, stripe.")
    provider_customer_id = models.CharField(max_length=64, blank=True, default="")
    provider_subscription_id = models.CharField(max_length=64, blank=True, default="")
    # Dunning: when collection first failed (cleared when paid up); the grace period counts from it.
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    # Why billing closed the store to buyers, if it did (a suspension staff placed has none here, so
    # paying never lifts it).
    billing_hold = models.CharField(max_length=16, choices=BillingHold.choices, blank=True, default="")
    billing_hold_at = models.DateTimeField(null=True, blank=True)
    # `local` provider only: collection fails while set, so staff and tests can walk through dunning.
    simulate_payment_failure = models.BooleanField(
        default=False, help_text="Local provider: collecting this store's invoices fails (to test dunning)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(billing_hold__in=["", "payment_overdue", "ended"]), name="subscription_billing_hold_valid"
            ),
            models.CheckConstraint(
                condition=Q(billing_hold="", billing_hold_at=None)
                | (~Q(billing_hold="") & Q(billing_hold_at__isnull=False)),
                name="subscription_billing_hold_dated",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["trialing", "active", "past_due", "canceled"]),
                name="subscription_status_valid",
            ),
            models.CheckConstraint(condition=Q(interval__in=["month", "year"]), name="subscription_interval_valid"),
            models.CheckConstraint(
                condition=Q(current_period_end__gt=F("current_period_start")), name="subscription_period_forward"
            ),
            models.CheckConstraint(condition=~Q(provider=""), name="subscription_provider_set"),
            models.UniqueConstraint(
                fields=["provider", "provider_subscription_id"],
                condition=~Q(provider_subscription_id=""),
                name="subscription_provider_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.plan_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        """Whether the store may use what it pays for (a past-due store is in its grace period)."""
        return self.status != self.Status.CANCELED


class UsageEvent(models.Model):
    """One report of usage by a store: ``quantity`` of ``metric`` at ``occurred_at``, sent once.

    Kept raw and append-only. A period's quantity is aggregated when it is read (sum for count and sum
    metrics, max for peaks) with an index-only scan of (tenant, metric, occurred_at) INCLUDE quantity;
    high-volume sources (API requests) report batches (quantity N), not one row per request.

    ``forwarded_at`` is when the event reached the platform's bill. On the platform that is when it was
    recorded; a dedicated stack records its store's usage in its own database, where nobody bills it, so
    there it stays empty until billing.usage_forwarding has handed the event to the platform.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    quantity = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    # The sender's identifier for this event: a replay with the same key is the same event.
    idempotency_key = models.CharField(max_length=100)
    recorded_at = models.DateTimeField(auto_now_add=True)
    forwarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="usage_event_idempotent"),
            models.CheckConstraint(condition=Q(metric__in=[m.value for m in Metric]), name="usage_event_metric_valid"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="usage_event_key_set"),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "metric", "occurred_at"], include=["quantity"], name="usage_event_period_idx"
            ),
            # Metering reads what was recorded in a window; rows arrive in recorded_at order, so a BRIN
            # index finds a window for almost nothing at insert time.
            BrinIndex(fields=["recorded_at"], name="usage_event_recorded_brin"),
            # What a dedicated stack has still to forward, oldest first; empty on the platform.
            models.Index(fields=["id"], condition=Q(forwarded_at__isnull=True), name="usage_event_unforwarded_idx"),
            # The staff console's platform overview sums a metric per day over every store: the period
            # index leads with the store, so it cannot serve that window. With thousands of stores that is
            # millions of rows; this one is read index-only for just the window's rows of the one metric.
            models.Index(
                fields=["metric", "occurred_at"], include=["quantity", "tenant"], name="usage_event_metric_day_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.metric} {self.quantity} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Invoice(models.Model):
    """An invoice issued to a store for one billing period (billing.invoicing closes periods). Totals are
    the sum of its items, rounded per line by billing.rating; numbers come from InvoiceNumberSequence."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(max_length=3)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    subtotal = models.BigIntegerField()
    tax = models.BigIntegerField(default=0)
    total = models.BigIntegerField()
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # The rendered PDF's name in default storage (public/billing/...), empty until rendered.
    pdf = models.CharField(max_length=200, blank=True, default="")
    collection_attempts = models.PositiveSmallIntegerField(default=0)
    last_collection_error = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            # A period is invoiced once, however many period-close jobs run.
            models.UniqueConstraint(fields=["subscription", "period_start"], name="invoice_one_per_period"),
            models.CheckConstraint(
                condition=Q(status="paid", paid_at__isnull=False) | ~Q(status="paid"), name="invoice_paid_dated"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "paid", "void", "uncollectible"]), name="invoice_status_valid"
            ),
            models.CheckConstraint(condition=Q(total=F("subtotal") + F("tax")), name="invoice_total_adds_up"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="invoice_currency_iso"),
            models.CheckConstraint(condition=Q(period_end__gt=F("period_start")), name="invoice_period_forward"),
        ]
        indexes = [models.Index(fields=["tenant", "-period_start"], name="invoice_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.number} ({self.status})"


class InvoiceItem(models.Model):
    """An amount owed or credited: a line of an invoice, or pending (no invoice yet) until the next
    invoice of its subscription picks it up, like the proration of a mid-period plan change."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="invoice_items")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    kind = models.CharField(max_length=16, choices=[(kind.value, kind.value) for kind in rating.LineKind])
    description = models.CharField(max_length=200)
    metric = models.CharField(max_length=24, choices=Metric.choices, blank=True, default="")
    quantity = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(help_text="Minor units; negative for a credit.")
    currency = models.CharField(max_length=3)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[kind.value for kind in rating.LineKind]), name="invoice_item_kind_valid"
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="invoice_item_currency_iso"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="invoice_item_period_forward"),
        ]
        indexes = [
            models.Index(fields=["subscription"], condition=Q(invoice__isnull=True), name="invoice_item_pending_idx")
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount} {self.currency}"


class InvoiceNumberSequence(models.Model):
    """The platform's invoice counter for one year: LB-<year>-<n>, n without gaps.

    Its row is locked (FOR UPDATE) by the transaction that inserts the invoice, so a rolled-back close
    gives its number back and two closes never take the same one.
    """

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"
