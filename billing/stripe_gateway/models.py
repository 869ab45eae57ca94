"""What LocalBazaar knows of its Stripe account, in `public`: Stripe ids of our catalog, customers
and subscriptions, processed webhook events, and the outbox of usage reported as meter events."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from billing.models import Metric, Plan
from tenants.models import Tenant


class StripeMeter(models.Model):
    """The Billing Meter that one of our metrics is reported to."""

    metric = models.CharField(max_length=24, choices=Metric.choices, unique=True)
    meter_id = models.CharField(max_length=64, unique=True)
    event_name = models.CharField(max_length=100, unique=True)
    formula = models.CharField(max_length=8, help_text="How Stripe aggregates: sum or last.")

    def __str__(self) -> str:
        return f"{self.metric} -> {self.meter_id}"


class StripePrice(models.Model):
    """The active Stripe Price of one part of a plan (its monthly or yearly fee, or one usage charge).

    ``fingerprint`` hashes the Price's terms: a plan edited in the admin gets a new Price on the next
    sync (Prices are immutable at Stripe) and the old one is archived.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="+")
    component = models.CharField(max_length=40, help_text="fee:month, fee:year, or usage:<metric>:<interval>.")
    lookup_key = models.CharField(max_length=200, unique=True)
    product_id = models.CharField(max_length=64)
    price_id = models.CharField(max_length=64, unique=True)
    fingerprint = models.CharField(max_length=64)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "component"], name="stripe_price_one_per_component")]

    def __str__(self) -> str:
        return f"{self.lookup_key} -> {self.price_id}"


class StripeCustomer(models.Model):
    """The Stripe Customer who pays for a store."""

    tenant = models.OneToOneField(Tenant, on_delete=models.PROTECT, related_name="+")
    customer_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.tenant_id} -> {self.customer_id}"


class WebhookEvent(models.Model):
    """A Stripe event processed once: its id is unique, so a redelivery or replay is recognised."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    stripe_created = models.DateTimeField(help_text="When Stripe created the event.")
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["-stripe_created"], name="stripe_webhook_created_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class MeterReport(models.Model):
    """One meter event to send: a store's usage of a metric aggregated over one reporting window.

    ``identifier`` is derived from what it aggregates, never random: the same window aggregated
    again, or the row sent again after a crash, is the same meter event, and Stripe counts it once.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        LATE = "late", "Too late for Stripe (reconcile by hand)"

    identifier = models.CharField(max_length=100, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(max_length=24, choices=Metric.choices)
    event_name = models.CharField(max_length=100)
    customer_id = models.CharField(max_length=64)
    value = models.BigIntegerField()
    occurred_at = models.DateTimeField(help_text="The meter event's timestamp (the usage's time, clamped).")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["pending", "sent", "late"]), name="meter_report_state_valid"),
            models.CheckConstraint(condition=Q(value__gte=0), name="meter_report_value_non_negative"),
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False) | ~Q(state="sent"), name="meter_report_sent_at_set"
            ),
        ]
        indexes = [models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="meter_report_due_idx")]

    def __str__(self) -> str:
        return f"{self.identifier} {self.value} ({self.state})"


class MeterWindowCursor(models.Model):
    """How far usage has been aggregated into reports: every usage event recorded before
    ``closed_until`` is in some MeterReport. One row; advanced in the transaction that writes reports."""

    singleton = models.BooleanField(default=True, unique=True)
    closed_until = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(singleton=True), name="meter_window_cursor_single_row")]
