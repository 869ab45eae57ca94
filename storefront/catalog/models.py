"""A store's catalog (tenant schema): products, categories, the seller's profile, and CSV import jobs.

Nothing here points into `public`: the tables move with the store's schema (see ARCHITECTURE).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from storefront.catalog import product_rules as rules
from storefront.catalog.currencies import DEFAULT_CURRENCY
from storefront.catalog.product_search import ProductDocument
from storefront.images.validation import EXTENSIONS


class Category(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=rules.CATEGORY_SLUG_MAX, unique=True)
    # A parent with subcategories can't be deleted out from under them.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="category_not_own_parent"),
            models.CheckConstraint(condition=models.Q(slug__regex=r"^[a-z0-9]+(-[a-z0-9]+)*$"), name="category_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=rules.TITLE_MAX)
    description = models.TextField(blank=True, default="")
    # Positive*Field columns carry CHECK (price >= 0) and CHECK (stock >= 0) in the database.
    price = models.PositiveBigIntegerField(help_text="In minor units (pence, cents).")
    currency = models.CharField(max_length=3, default=DEFAULT_CURRENCY)
    sku = models.CharField(max_length=rules.SKU_MAX, unique=True)
    stock = models.PositiveIntegerField(default=0, help_text="Units on hand, including those in placed orders.")
    # Units in placed orders not yet handed over (storefront/orders owns this column): what is left to
    # sell is stock - allocated - units reserved by checkouts awaiting payment.
    allocated = models.PositiveIntegerField(default=0, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Deleting a category leaves its products uncategorised rather than deleting them.
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    # Tags are plain labels with no attributes of their own: an array (GIN-indexed for `@>` filters)
    # keeps a product one row, so lists need no join and CSV upserts stay one statement per batch.
    tags = ArrayField(models.CharField(max_length=rules.TAG_MAX), blank=True, default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "active", "archived"]), name="product_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="product_currency_iso"),
            models.CheckConstraint(condition=~models.Q(sku=""), name="product_sku_not_blank"),
            models.CheckConstraint(condition=models.Q(price__lte=rules.PRICE_MAX), name="product_price_at_most_max"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="product_status_created"),
            models.Index(fields=["price"], name="product_price"),
            GinIndex(fields=["tags"], name="product_tags_gin"),
            # Buyers search only active products: in-store search (catalog.selectors) and its typo fallback.
            GinIndex(ProductDocument(), name="product_document_gin", condition=models.Q(status="active")),
            GinIndex(
                fields=["title"],
                opclasses=["gin_trgm_ops"],
                name="product_title_trgm",
                condition=models.Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def unallocated(self) -> int:
        """Units not in placed orders (checkouts awaiting payment may hold some of them too)."""
        return max(self.stock - self.allocated, 0)


def _seller_photo_path(profile: SellerProfile, filename: str) -> str:
    # A fresh name per upload (a new photo never serves a cached old one), made here: the client's name
    # never reaches storage. The extension is the one `photos.clean_photo` chose from the real format.
    extension = filename.rpartition(".")[2].lower()
    if extension not in EXTENSIONS.values():
        raise ValueError(f"a seller photo is stored as {sorted(EXTENSIONS.values())}, not {filename!r}")
    return f"seller/{uuid.uuid4().hex}.{extension}"


class SellerProfile(models.Model):
    """The people behind the store: their story, a photo and where they are. One per store."""

    # The primary key is pinned to 1 (and checked): the table can never hold a second profile.
    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    story = models.TextField(blank=True, default="")
    photo = models.FileField(upload_to=_seller_photo_path, blank=True, default="")
    town = models.CharField(max_length=80, blank=True, default="")
    postcode = models.CharField(max_length=16, blank=True, default="")
    # `#rrggbb` dark enough for white text (catalog.colours), or "" for the platform's own colour.
    brand_colour = models.CharField(max_length=7, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="seller_profile_singleton")]

    def __str__(self) -> str:
        return "Seller profile"


def _import_upload_path(job: ImportJob, filename: str) -> str:
    # Random names, never the client's (kept in `source_name`): never guessable, never `.html`; and
    # media serving refuses `catalog/` whatever the name.
    return f"catalog/imports/{uuid.uuid4().hex}.csv"


class ImportJob(models.Model):
    """A CSV file being imported into the catalog, with its progress and outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source_name = models.CharField(max_length=255, help_text="The uploaded file's name.")
    file = models.FileField(upload_to=_import_upload_path, max_length=300)
    # The file's column names (without an earlier error report's `row` and `error`), for the error report.
    header = models.JSONField(default=list, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error_report = models.FileField(upload_to=_import_upload_path, max_length=300, blank=True, default="")
    message = models.CharField(max_length=500, blank=True, default="", help_text="Why the whole import failed.")
    # Where a file dropped in the store's import inbox came from (name, time and size): imported once.
    source_key = models.CharField(max_length=400, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "running", "succeeded", "failed"]),
                name="import_job_status_valid",
            ),
            # Every processed row was created, updated or refused, and no more rows than the file holds.
            models.CheckConstraint(
                condition=models.Q(
                    processed_rows=models.F("created_count") + models.F("updated_count") + models.F("failed_count")
                ),
                name="import_job_counts_add_up",
            ),
            models.CheckConstraint(
                condition=models.Q(processed_rows__lte=models.F("total_rows")), name="import_job_within_total"
            ),
            models.UniqueConstraint(
                fields=["source_key"], condition=~models.Q(source_key=""), name="import_job_source_once"
            ),
        ]

    def __str__(self) -> str:
        return self.source_name

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return self.processed_rows * 100 // self.total_rows if self.total_rows else 0


class ImportRowError(models.Model):
    """A row an import refused: where it was, why, and its cells as uploaded (for the error report)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    sku = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField()
    cells = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "row_number"]
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="import_row_error_once")]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"
