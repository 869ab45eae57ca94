"""Request and response shapes of the marketplace API (root host)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rest_framework import serializers

from storefront.catalog.currencies import DEFAULT_CURRENCY
from storefront.catalog.product_rules import PRICE_MAX
from storefront.marketplace.search_filters import SORTS


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    near = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=80, help_text="A town, postcode or district."
    )
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    category = serializers.SlugField(required=False, allow_blank=True, default="")
    min_price = serializers.IntegerField(required=False, min_value=0, max_value=PRICE_MAX, help_text="Minor units.")
    max_price = serializers.IntegerField(required=False, min_value=0, max_value=PRICE_MAX, help_text="Minor units.")
    within_km = serializers.FloatField(required=False, min_value=0.1, max_value=1000)
    in_stock = serializers.BooleanField(required=False, default=False, help_text="Leave out sold-out listings.")
    sort = serializers.ChoiceField(
        choices=list(SORTS),
        required=False,
        default="relevance",
        help_text="`relevance`, `nearest` (needs a place) or `price` (lowest first).",
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=500, default=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lat": ["Give both lat and lon, or neither."]})
        if attrs.get("near") and "lat" in attrs:
            raise serializers.ValidationError({"near": ["Give either near or lat/lon, not both."]})
        if "within_km" in attrs and not (attrs.get("near") or "lat" in attrs):
            raise serializers.ValidationError({"within_km": ["A distance needs a place: give near or lat/lon."]})
        if attrs.get("sort") == "nearest" and not (attrs.get("near") or "lat" in attrs):
            raise serializers.ValidationError({"sort": ["Sorting by distance needs a place: give near or lat/lon."]})
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": ["max_price is below min_price."]})
        return attrs


class ListingHitSerializer(serializers.Serializer):
    title = serializers.CharField()
    price = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    store = serializers.CharField(help_text="The store's slug.")
    store_name = serializers.CharField()
    store_url = serializers.URLField()
    product_url = serializers.URLField()
    town = serializers.CharField(help_text="The seller's town.")
    distance_km = serializers.FloatField(allow_null=True, help_text="From the buyer's place; null without one.")
    thumbnail_url = serializers.URLField(allow_null=True, help_text="The product's picture; null without one.")
    stock = serializers.IntegerField(allow_null=True, help_text="Units left to sell; null when the store did not say.")
    stock_status = serializers.ChoiceField(
        choices=["in_stock", "low", "sold_out"], allow_null=True, help_text="`low` is a few left; null when unknown."
    )


class SearchPageSerializer(serializers.Serializer):
    near = serializers.CharField(
        allow_null=True,
        help_text="The place distances are from: `near` as given, else the signed-in buyer's town; null for none.",
    )
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ListingHitSerializer(many=True)


class BatchListingSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    price = serializers.IntegerField(min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default=DEFAULT_CURRENCY)
    tags = serializers.ListField(child=serializers.CharField(max_length=80), required=False, default=list)
    labels = serializers.ListField(child=serializers.CharField(max_length=80), required=False, default=list)
    category_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)
    category_slug = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    is_listed = serializers.BooleanField(required=False, default=True)
    source_updated_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    thumbnail_url = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="An https URL, or a path on the store's host (/media/...).",
    )
    stock = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=2**31 - 1, help_text="Units left to sell."
    )

    def validate_thumbnail_url(self, value: str) -> str:
        if value and not is_picture_address(value):
            raise serializers.ValidationError("Give an http(s) URL or a path starting with one /.")
        return value


def is_picture_address(value: str) -> bool:
    """An http(s) URL or a path on the store's host: nothing a browser would run or send elsewhere."""
    if any(ord(char) <= 32 or char in "\\<>\"'" for char in value):
        return False
    if value.startswith("/"):
        return not value.startswith("//")
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class SellerPlaceSerializer(serializers.Serializer):
    town = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)
    postcode = serializers.CharField(required=False, allow_blank=True, default="", max_length=16)


class ListingBatchSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="Higher than any earlier batch of the store.")
    seller = SellerPlaceSerializer(required=False)
    listings = BatchListingSerializer(many=True, required=False, default=list)
    withdrawn = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, help_text="Product ids."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ids = [row["product_id"] for row in attrs["listings"]] + list(attrs["withdrawn"])
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError({"listings": ["Each product may appear once in a batch."]})
        if len(ids) > 2000:
            raise serializers.ValidationError({"listings": ["At most 2,000 products in a batch."]})
        return attrs


class ListingBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Rows written; older versions change nothing.")
