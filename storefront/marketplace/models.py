"""The marketplace-wide listing index (public schema): one row per published product of every store,
the gazetteer that places sellers and buyers, and the publishing bookkeeping.

Listings are written only by `services.publish_listings` (from a store's outbox drain, or the
authenticated batch API for dedicated stores) and read by `selectors.search_listings`.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

# Listings a buyer can find: the product is active and its store is live.
VISIBLE = Q(is_listed=True, store_is_live=True)


class Place(models.Model):
    """A town or postcode district with its coordinates (seeded from data/uk_places.csv)."""

    class Kind(models.TextChoices):
        TOWN = "town", "Town"
        POSTCODE = "postcode", "Postcode district"

    name = models.CharField(max_length=80)
    # The lookup key: lower case, letters and digits only ("hebdenbridge", "hx7").
    key = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    country = models.CharField(max_length=2, default="GB")
    lat = models.FloatField()
    lon = models.FloatField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="place_kind_key_unique"),
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="place_lat_range"),
            models.CheckConstraint(condition=Q(lon__gte=-180, lon__lte=180), name="place_lon_range"),
            models.CheckConstraint(condition=Q(kind__in=["town", "postcode"]), name="place_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class Listing(models.Model):
    """A store's product as the marketplace shows it. Unlisted rows (archived or deleted products)
    are kept as tombstones carrying their version, so a late, older event can never bring them back."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    product_id = models.BigIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    tags = ArrayField(models.CharField(max_length=80), blank=True, default=list)
    # From image labelling, when the store's products carry labels.
    labels = ArrayField(models.CharField(max_length=80), blank=True, default=list)
    category_name = models.CharField(max_length=80, blank=True, default="")
    category_slug = models.CharField(max_length=60, blank=True, default="")
    price = models.BigIntegerField(help_text="In minor units.")
    currency = models.CharField(max_length=3)
    product_path = models.CharField(max_length=200)
    seller_town = models.CharField(max_length=80, blank=True, default="")
    # The product's picture: its main image's small thumbnail, an http(s) URL or a path on the store's
    # host ("/media/..."); "" when it has none. Rows published before it existed default to "".
    thumbnail_url = models.CharField(max_length=500, blank=True, default="", db_default="")
    # Units left to sell when the product was published; null when the publisher did not say.
    stock = models.IntegerField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    # The store-side change this row reflects (its outbox event id): only a higher version overwrites.
    source_version = models.BigIntegerField()
    source_updated_at = models.DateTimeField(null=True, blank=True)
    is_listed = models.BooleanField(default=True, help_text="The product exists and is active.")
    store_is_live = models.BooleanField(default=True, help_text="The store is active (not suspended or gone).")
    # title A, tags/labels/category B, description C; written by the upsert in services.
    search_vector = SearchVectorField(null=True)
    published_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "product_id"], name="listing_tenant_product_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="listing_price_non_negative"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="listing_currency_iso"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="listing_stock_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lon__isnull=True) | Q(lat__isnull=False, lon__isnull=False),
                name="listing_lat_lon_together",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="listing_search_gin", condition=VISIBLE),
            GinIndex(OpClass("title", name="gin_trgm_ops"), name="listing_title_trgm", condition=VISIBLE),
            models.Index(fields=["lat", "lon"], name="listing_lat_lon", condition=VISIBLE),
            models.Index(fields=["category_slug", "price"], name="listing_category_price", condition=VISIBLE),
        ]

    def __str__(self) -> str:
        return self.title


class ListingWord(models.Model):
    """The index's vocabulary (words of titles, tags, labels, categories), trigram-indexed: a misspelt
    query word is matched against these few thousand words, not against every listing."""

    word = models.CharField(max_length=80, primary_key=True)

    class Meta:
        indexes = [GinIndex(OpClass("word", name="gin_trgm_ops"), name="listing_word_trgm")]

    def __str__(self) -> str:
        return self.word


class PendingPublication(models.Model):
    """A store with outbox rows not yet drained: the beat sweep looks only at these, never at every
    tenant. Written in the same transaction as the outbox row; removed by the drain."""

    tenant_id = models.BigIntegerField(primary_key=True)
    schema_name = models.CharField(max_length=63)
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.schema_name


class PublishingToken(models.Model):
    """A dedicated store's credential for the listing batch API; only its SHA-256 is kept."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"publishing token of tenant {self.tenant_id}"
