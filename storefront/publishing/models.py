"""The store's marketplace outbox (tenant schema): one row per product change not yet published.

Rows are written in the same transaction as the change itself, so a committed change is never
lost and a rolled-back one never published; the drain (drain.py) deletes them as it publishes.
"""

from django.db import models


class ListingChange(models.Model):
    """Product `product_id` changed (created, edited, archived, deleted, or its seller moved).

    The row says only *which* product changed: the drain publishes the product as it is when drained,
    stamped with a version drawn (under the drain's lock) from this table's id sequence, so a later
    drain always carries a higher version than an earlier one.
    """

    product_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"product {self.product_id} changed"
