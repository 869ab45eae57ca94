"""API shapes of the catalog. Field rules come from `product_rules`, the same ones the CSV import uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from storefront.catalog import colours
from storefront.catalog import product_rules as rules
from storefront.catalog.currencies import DEFAULT_CURRENCY
from storefront.catalog.models import Category, ImportJob, Product, SellerProfile

T = TypeVar("T")


def _cleaned(clean: Callable[[Any], T], value: Any) -> T:
    try:
        return clean(value)
    except rules.FieldInvalid as error:
        raise serializers.ValidationError(str(error)) from error


class ProductSerializer(serializers.ModelSerializer):
    # Plain fields, so the messages are product_rules' (the model's bounds would answer first otherwise).
    price = serializers.IntegerField(help_text="Integer minor units: 450 is £4.50.")
    stock = serializers.IntegerField(required=False, default=0)
    currency = serializers.CharField(required=False, default=DEFAULT_CURRENCY, help_text="ISO 4217 code, e.g. GBP.")
    sku = serializers.CharField(
        max_length=rules.SKU_MAX,
        validators=[UniqueValidator(Product.objects.all(), message="A product with this SKU already exists.")],
    )
    category = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        allow_null=True,
        required=False,
        help_text="A category's slug (see /api/v1/categories), or null.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=rules.TAG_MAX), required=False, default=list, max_length=rules.TAGS_MAX
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "title",
            "description",
            "price",
            "currency",
            "sku",
            "stock",
            "status",
            "category",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_title(self, value: str) -> str:
        return _cleaned(rules.clean_title, value)

    def validate_description(self, value: str) -> str:
        return _cleaned(rules.clean_description, value)

    def validate_price(self, value: int) -> int:
        return _cleaned(rules.clean_price, value)

    def validate_stock(self, value: int) -> int:
        return _cleaned(rules.clean_stock, value)

    def validate_currency(self, value: str) -> str:
        return _cleaned(rules.clean_currency, value)

    def validate_sku(self, value: str) -> str:
        return _cleaned(rules.clean_sku, value)

    def validate_tags(self, value: list[str]) -> list[str]:
        return _cleaned(rules.clean_tags, value)


class CategorySerializer(serializers.ModelSerializer):
    slug = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=rules.CATEGORY_SLUG_MAX,
        validators=[UniqueValidator(Category.objects.all(), message="A category with this slug already exists.")],
        help_text="Made from the name when left out.",
    )
    parent = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent"]
        read_only_fields = ["id"]

    def validate_name(self, value: str) -> str:
        return _cleaned(lambda text: rules.clean_text(text, "Name", 80, required=True), value)

    def validate_slug(self, value: str) -> str:
        return _cleaned(rules.clean_category_slug, value)


class SellerProfileSerializer(serializers.ModelSerializer):
    photo = serializers.FileField(
        required=False, allow_null=True, help_text="JPEG, PNG or WebP, at most 5 MB (multipart); null removes it."
    )
    brand_colour = serializers.CharField(
        required=False, allow_blank=True, help_text="#rrggbb dark enough for white text on it; blank: the platform's."
    )

    class Meta:
        model = SellerProfile
        fields = ["story", "town", "postcode", "photo", "brand_colour", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"story": {"required": True}, "town": {"required": True}, "postcode": {"required": True}}

    def validate_story(self, value: str) -> str:
        return _cleaned(lambda text: rules.clean_text(text, "Story", 5000), value)

    def validate_town(self, value: str) -> str:
        return _cleaned(lambda text: rules.clean_text(text, "Town", 80), value)

    def validate_postcode(self, value: str) -> str:
        return _cleaned(lambda text: rules.clean_text(text, "Postcode", 16).upper(), value)

    def validate_brand_colour(self, value: str) -> str:
        try:
            return colours.clean_brand_colour(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A UTF-8 CSV file in the catalog's format (see the export).")


class ImportJobSerializer(serializers.ModelSerializer):
    file_name = serializers.CharField(source="source_name", read_only=True)
    created = serializers.IntegerField(source="created_count", read_only=True)
    updated = serializers.IntegerField(source="updated_count", read_only=True)
    failed = serializers.IntegerField(source="failed_count", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "file_name",
            "total_rows",
            "processed_rows",
            "created",
            "updated",
            "failed",
            "percent",
            "message",
            "errors_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_errors_url(self, job: ImportJob) -> str | None:
        """Where the refused rows can be downloaded as CSV, once the import has finished with some."""
        if not job.error_report:
            return None
        return reverse("product-import-errors", kwargs={"pk": job.pk})
