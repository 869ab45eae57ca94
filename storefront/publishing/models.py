"""The store's outboxes (tenant schema): one row per product change not yet published to the marketplace,
and one per order change not yet in its buyer's order history.

Rows are written in the same transaction as the change itself, so a committed change is never
lost and a rolled-back one never published; the drains (drain.py, order_history.py) delete them as they publish.
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


class OrderChange(models.Model):
    """A signed-in buyer's order was placed or changed status: the order as it was then, for the buyer's
    order history across stores (storefront.purchases). The row's id is the change's version: an order's
    later change is written under the order's row lock, after the earlier one, so it draws a higher id.
    """

    order_id = models.BigIntegerField()
    buyer_id = models.BigIntegerField()
    number = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    total = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    item_count = models.PositiveIntegerField()
    first_item_title = models.CharField(max_length=200, blank=True, default="")
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"order {self.number} is {self.status}"
