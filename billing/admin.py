"""Billing in the control-plane admin (root domain only, never a store's admin): the plan catalog to
edit; subscriptions, usage and invoices to look at (they change only through billing.services)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from billing import rating
from billing.dunning import mark_invoice_paid
from billing.models import Invoice, InvoiceItem, Plan, Subscription, UsageCharge, UsageEvent, UsageTier
from tenants.admin_site import platform_admin


class UsageChargeInline(admin.TabularInline):
    """Read-only here: a charge is added and edited on its own page, together with its tiers, so a
    tiered charge is never saved without the tiers that make it rateable."""

    model = UsageCharge
    extra = 0
    show_change_link = True
    fields = readonly_fields = (
        "metric",
        "pricing",
        "included",
        "unit_amount",
        "package_size",
        "package_amount",
        "percentage_bps",
    )

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Plan, site=platform_admin)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "tenancy", "currency", "monthly_fee", "yearly_fee", "is_public", "sort_order"]
    list_filter = ["tenancy", "is_public"]
    search_fields = ["code", "name"]
    fieldsets = (
        (None, {"fields": ("code", "name", "tenancy", "is_public", "sort_order")}),
        ("Price (minor units)", {"fields": ("currency", "monthly_fee", "yearly_fee")}),
        ("Limits (empty: unlimited)", {"fields": ("max_products", "staff_seats", "custom_domains")}),
    )
    inlines = [UsageChargeInline]


class TierFormSet(BaseInlineFormSet):
    """Checks the tiers as a whole with the rating engine: ascending bounds, one unbounded last tier,
    no volume cliffs, and tiers only on graduated or volume charges."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        tiers = [
            rating.Tier(
                up_to=form.cleaned_data.get("up_to"),
                unit_amount=form.cleaned_data.get("unit_amount") or Decimal(0),
                flat_amount=form.cleaned_data.get("flat_amount") or 0,
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        tiers.sort(key=lambda tier: (tier.up_to is None, tier.up_to or 0))
        charge: UsageCharge = self.instance
        try:
            charge.to_rating(tiers)
        except rating.PricingError as error:
            raise ValidationError(str(error)) from error


class UsageTierInline(admin.TabularInline):
    model = UsageTier
    formset = TierFormSet
    extra = 1


@admin.register(UsageCharge, site=platform_admin)
class UsageChargeAdmin(admin.ModelAdmin):
    list_display = ["plan", "metric", "pricing", "included"]
    list_filter = ["plan", "metric", "pricing"]
    list_select_related = ["plan"]
    inlines = [UsageTierInline]

    def get_readonly_fields(self, request: Any, obj: UsageCharge | None = None) -> list[str]:
        return ["plan", "metric"] if obj else []


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Subscription, site=platform_admin)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "tenant",
        "plan",
        "status",
        "interval",
        "current_period_end",
        "cancel_at_period_end",
        "billing_hold",
        "simulate_payment_failure",
        "provider",
    ]
    list_filter = ["status", "plan", "provider", "billing_hold", "simulate_payment_failure"]
    list_select_related = ["tenant", "plan"]
    search_fields = ["tenant__slug", "provider_customer_id", "provider_subscription_id"]
    actions = ["simulate_failed_payments", "stop_simulating_failed_payments"]

    @admin.action(description="Local provider: make collection fail (to walk through dunning)")
    def simulate_failed_payments(self, request: Any, queryset: Any) -> None:
        queryset.update(simulate_payment_failure=True)

    @admin.action(description="Local provider: let collection succeed again")
    def stop_simulating_failed_payments(self, request: Any, queryset: Any) -> None:
        queryset.update(simulate_payment_failure=False)


@admin.register(UsageEvent, site=platform_admin)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "metric", "quantity", "occurred_at", "idempotency_key"]
    list_filter = ["metric"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "idempotency_key"]
    date_hierarchy = "occurred_at"


class InvoiceItemInline(admin.TabularInline):
    model = InvoiceItem
    extra = 0
    can_delete = False
    fields = readonly_fields = ("kind", "description", "metric", "quantity", "amount", "currency")

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Invoice, site=platform_admin)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["number", "tenant", "status", "total", "currency", "period_start", "issued_at"]
    list_filter = ["status"]
    list_select_related = ["tenant"]
    search_fields = ["number", "tenant__slug"]
    inlines = [InvoiceItemInline]
    actions = ["mark_paid"]

    @admin.action(description="Mark paid (received outside the provider); reopens a store closed for it")
    def mark_paid(self, request: Any, queryset: Any) -> None:
        for invoice in queryset.filter(status=Invoice.Status.OPEN).order_by("pk"):
            mark_invoice_paid(invoice)
