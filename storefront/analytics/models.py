"""Product analytics rolled up from the storefront's events (see storefront/analytics/recording.py): one row
per product and minute, and one per product and day. Written only by the rollup, as upserts."""

from __future__ import annotations

from django.db import models

from storefront.catalog.models import Product


class ProductMinute(models.Model):
    """What one product's page saw in one UTC minute (``minute`` is its start)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    views = models.PositiveIntegerField(default=0)
    unique_viewers = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-minute", "product_id"]
        constraints = [models.UniqueConstraint(fields=["product", "minute"], name="analytics_product_minute_unique")]
        indexes = [models.Index(fields=["minute"], name="analytics_minute")]


class ProductDay(models.Model):
    """One product's UTC day: page views, distinct viewers, adds to cart, and the paid-or-later orders
    (orders with the product, and units sold) placed that day."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    unique_viewers = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "product_id"]
        verbose_name = "product analytics"
        verbose_name_plural = "product analytics"
        constraints = [models.UniqueConstraint(fields=["product", "day"], name="analytics_product_day_unique")]
        indexes = [models.Index(fields=["day"], name="analytics_day")]
