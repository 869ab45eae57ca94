"""Product images (tenant schema): the uploaded original, its processing state, its thumbnails and labels.

A product's main image is its first ready image; `is_main` marks it so lists find it with one indexed
lookup, and the database allows one per product.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from storefront.catalog.models import Product


class ProductImage(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    # Storage name of the uploaded file, as uploaded (never served: it may carry EXIF and GPS data).
    original = models.FileField(max_length=300)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSING)
    message = models.CharField(max_length=300, blank=True, default="", help_text="Why processing failed.")
    position = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=200, blank=True, default="")
    format = models.CharField(max_length=8, blank=True, default="", help_text="jpeg, png or webp, sniffed.")
    byte_size = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # {"268x200": {"webp": name, "jpeg": name, "width": w, "height": h}, "536x400": {...}, ...}
    thumbnails = models.JSONField(default=dict, blank=True)
    labels = ArrayField(models.CharField(max_length=60), blank=True, default=list)
    is_main = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["product", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["processing", "ready", "failed"]), name="product_image_status_valid"
            ),
            # Only a ready image can be a product's image, and a product has at most one.
            models.CheckConstraint(
                condition=models.Q(is_main=False) | models.Q(status="ready"), name="product_image_main_is_ready"
            ),
            models.UniqueConstraint(
                fields=["product"], condition=models.Q(is_main=True), name="product_image_one_main"
            ),
            # A stored original is registered once (a replayed direct-upload completion adds nothing).
            models.UniqueConstraint(fields=["original"], name="product_image_original_once"),
        ]
        indexes = [models.Index(fields=["product", "status", "position"], name="product_image_ready")]

    def __str__(self) -> str:
        return self.alt_text or f"image {self.pk}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def stored_names(self) -> list[str]:
        """Every file this image owns in storage: the original and each thumbnail."""
        names = [self.original.name] if self.original.name else []
        for variants in self.thumbnails.values():
            names.extend(name for key, name in variants.items() if key in ("webp", "jpeg") and name)
        return names
