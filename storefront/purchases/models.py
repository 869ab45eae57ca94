"""Buyers' order history across stores (public schema): one row per order a signed-in buyer placed in any
store, fed by each store's order outbox (storefront.publishing.order_history), never read from the stores'
schemas. Written only by `services.record_buyer_orders`; read by `selectors.buyer_order_history`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class BuyerOrder(models.Model):
    """A store's order as its buyer's history shows it. The store's name and slug are read through `tenant`
    (same schema, one join), so a renamed store shows its new name on every past order."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(help_text="The order's id in its store.")
    # The buyer's control-plane id, as the store recorded it (no foreign key: a dedicated stack reports it).
    buyer_id = models.BigIntegerField()
    number = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    total = models.BigIntegerField(help_text="In minor units.")
    currency = models.CharField(max_length=3)
    item_count = models.PositiveIntegerField(help_text="Units ordered, all lines together.")
    first_item_title = models.CharField(max_length=200, blank=True, default="")
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="When the order last changed in its store.")
    # The store-side change this row reflects (its outbox row id): only a higher version overwrites.
    source_version = models.BigIntegerField()
    indexed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order_id"], name="buyer_order_tenant_order_unique"),
            models.CheckConstraint(condition=Q(total__gte=0), name="buyer_order_total_non_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="buyer_order_currency_iso"),
        ]
        indexes = [models.Index(fields=["buyer_id", "-placed_at", "-id"], name="buyer_order_history")]

    def __str__(self) -> str:
        return f"order {self.number} of tenant {self.tenant_id}"


class PendingOrderChanges(models.Model):
    """A store with order changes not yet drained: the beat sweep looks only at these, never at every
    tenant. Written in the same transaction as the outbox row; removed by the drain."""

    tenant_id = models.BigIntegerField(primary_key=True)
    schema_name = models.CharField(max_length=63)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "pending order changes"

    def __str__(self) -> str:
        return self.schema_name
