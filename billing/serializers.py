"""API shapes of billing: the public plan catalog and the customer portal. Amounts are integer minor
units of ``currency``; unit amounts are decimal strings because a unit may cost a fraction of a minor unit."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from billing.dunning import billing_notice
from billing.invoicing import CollectionOutcome
from billing.models import AGGREGATION_OF, Aggregation, Invoice, Metric, Plan, Subscription, UsageCharge, UsageTier
from billing.rating import Interval, LineKind
from billing.selectors import PlanChangePreview, ProjectedInvoice


class UsageTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageTier
        fields = ["up_to", "unit_amount", "flat_amount"]


class UsageChargeSerializer(serializers.ModelSerializer):
    aggregation = serializers.CharField(read_only=True, help_text="count, sum or max over the period.")
    tiers = UsageTierSerializer(many=True, read_only=True)

    class Meta:
        model = UsageCharge
        fields = [
            "metric",
            "aggregation",
            "pricing",
            "included",
            "unit_amount",
            "package_size",
            "package_amount",
            "percentage_bps",
            "tiers",
        ]


class PlanLimitsSerializer(serializers.Serializer):
    max_products = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    staff_seats = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    custom_domains = serializers.IntegerField(allow_null=True, help_text="null: unlimited")


class PlanSerializer(serializers.ModelSerializer):
    limits = PlanLimitsSerializer(source="*", read_only=True)
    usage_charges = UsageChargeSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = ["code", "name", "tenancy", "currency", "monthly_fee", "yearly_fee", "limits", "usage_charges"]


# --- The customer portal (store host, owner only) ------------------------------------------------


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.code", help_text="The plan's code.")
    plan_name = serializers.CharField(source="plan.name")
    notice = serializers.SerializerMethodField(help_text="What the owner must know now (payment failed...), or null.")

    def get_notice(self, subscription: Subscription) -> str | None:
        return billing_notice(subscription)

    class Meta:
        model = Subscription
        fields = [
            "plan",
            "plan_name",
            "status",
            "interval",
            "current_period_start",
            "current_period_end",
            "cancel_at_period_end",
            "provider",
            "payment_failed_at",
            "billing_hold",
            "notice",
        ]


class InvoiceLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[kind.value for kind in LineKind])
    description = serializers.CharField()
    metric = serializers.CharField(allow_blank=True)
    quantity = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Minor units; negative for a credit.")


class MetricUsageSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    aggregation = serializers.ChoiceField(choices=Aggregation.choices)
    charged = serializers.BooleanField(help_text="Whether the plan charges this metric.")
    quantity = serializers.IntegerField(help_text="This period so far (a peak for storage).")
    included = serializers.IntegerField(allow_null=True, help_text="Free each period; null when not charged.")
    billable = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Minor units, rounded once for the line.")


class UsageSerializer(serializers.Serializer):
    """This period's usage and the projected invoice due when it ends."""

    plan = serializers.CharField()
    currency = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    metrics = MetricUsageSerializer(many=True)
    lines = InvoiceLineSerializer(many=True)
    subtotal = serializers.IntegerField()
    tax = serializers.IntegerField()
    total = serializers.IntegerField(help_text="The projected total, minor units.")


def usage_summary(projected: ProjectedInvoice) -> dict[str, Any]:
    """Every metric (charged or not, for the usage chart) beside the projected invoice's lines."""
    subscription, invoice = projected.subscription, projected.invoice
    metrics = []
    for metric in Metric:
        line = invoice.usage_line(metric.value)
        metrics.append(
            {
                "metric": metric.value,
                "aggregation": AGGREGATION_OF[metric],
                "charged": line is not None,
                "quantity": projected.usage.get(metric.value, 0),
                "included": line.included if line else None,
                "billable": line.billable if line else 0,
                "amount": line.amount if line else 0,
            }
        )
    return {
        "plan": subscription.plan.code,
        "currency": invoice.currency,
        "period_start": subscription.current_period_start,
        "period_end": subscription.current_period_end,
        "metrics": metrics,
        "lines": invoice.lines,
        "subtotal": invoice.subtotal,
        "tax": invoice.tax,
        "total": invoice.total,
    }


class InvoiceSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField(help_text="Null until invoice PDFs are rendered.")

    class Meta:
        model = Invoice
        fields = [
            "number",
            "status",
            "currency",
            "subtotal",
            "tax",
            "total",
            "period_start",
            "period_end",
            "issued_at",
            "paid_at",
            "pdf_url",
        ]

    def get_pdf_url(self, invoice: Invoice) -> str | None:
        return reverse("billing-invoice-pdf", args=[invoice.number]) if invoice.pdf else None


class ChangePlanRequestSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=40, help_text="The code of a public plan.")
    preview = serializers.BooleanField(default=False, help_text="true: only show what the change would cost.")


class PlanChangeSerializer(serializers.Serializer):
    preview = serializers.BooleanField(help_text="true: nothing was changed.")
    current_plan = serializers.CharField(help_text="The plan before the change.")
    plan = serializers.CharField(help_text="The plan after the change.")
    currency = serializers.CharField()
    effective_at = serializers.DateTimeField(help_text="When the change takes (or would take) effect.")
    period_end = serializers.DateTimeField(help_text="The period ends as before; the proration is billed then.")
    next_period_fee = serializers.IntegerField(help_text="The new plan's fee for each following period.")
    lines = InvoiceLineSerializer(many=True, help_text="Credit for the old plan, charge for the new, tax.")
    subtotal = serializers.IntegerField()
    tax = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Added to the next invoice (negative: a credit), minor units.")
    subscription = SubscriptionSerializer()


def plan_change_summary(change: PlanChangePreview, *, preview: bool) -> dict[str, Any]:
    subscription, proration = change.subscription, change.proration
    return {
        "preview": preview,
        "current_plan": change.current_plan.code,
        "plan": change.new_plan.code,
        "currency": proration.currency,
        "effective_at": change.effective_at,
        "period_end": subscription.current_period_end,
        "next_period_fee": change.new_plan.yearly_fee
        if subscription.interval == Interval.YEAR
        else change.new_plan.monthly_fee,
        "lines": proration.lines,
        "subtotal": proration.subtotal,
        "tax": proration.tax,
        "total": proration.total,
        "subscription": subscription,
    }


class CollectionSerializer(serializers.Serializer):
    number = serializers.CharField(source="invoice.number")
    total = serializers.IntegerField(source="invoice.total")
    paid = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)


class RetryPaymentSerializer(serializers.Serializer):
    attempts = CollectionSerializer(many=True, help_text="One per open invoice, oldest first.")
    subscription = SubscriptionSerializer()


def retry_summary(subscription: Subscription, outcomes: list[CollectionOutcome]) -> dict[str, Any]:
    return {"attempts": outcomes, "subscription": subscription}
