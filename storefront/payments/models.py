"""What a store knows of its Stripe Connect account and of the payment events Stripe sent about it.
Kept in the store's schema (a dedicated store takes them along to its own database)."""

from __future__ import annotations

from django.db import models


class StripeAccount(models.Model):
    """The store's Express account (one per store): Stripe's word on whether it can take payments."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(default=False)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="stripe_account_single")]

    def __str__(self) -> str:
        return self.account_id


class PaymentEvent(models.Model):
    """A Stripe event about this store applied once: its id is unique, so redeliveries are recognised."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=200, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"
