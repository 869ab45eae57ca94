"""API shapes of product images."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from storefront.images.models import ProductImage
from storefront.images.validation import CONTENT_TYPES


class ProductImageSerializer(serializers.ModelSerializer):
    thumbnails = serializers.SerializerMethodField(
        help_text='Per size ("268x200", "536x400", "1072x800"): `webp` URL, `jpeg` URL (268x200 only), '
        "`width`, `height`. Empty until the image is ready."
    )

    class Meta:
        model = ProductImage
        fields = [
            "id",
            "product",
            "status",
            "message",
            "position",
            "alt_text",
            "format",
            "width",
            "height",
            "is_main",
            "labels",
            "thumbnails",
            "created_at",
            "processed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_thumbnails(self, image: ProductImage) -> dict[str, dict[str, Any]]:
        shaped: dict[str, dict[str, Any]] = {}
        for size, variant in image.thumbnails.items():
            entry: dict[str, Any] = {"width": variant.get("width"), "height": variant.get("height")}
            for kind in ("webp", "jpeg"):
                if variant.get(kind):
                    entry[kind] = default_storage.url(variant[kind])
            shaped[size] = entry
        return shaped


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG, PNG or WebP photo (see IMAGE_MAX_BYTES, IMAGE_MAX_PIXELS).")
    alt_text = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class PresignRequestSerializer(serializers.Serializer):
    content_type = serializers.ChoiceField(choices=sorted(CONTENT_TYPES.values()))


class PresignedPostSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="POST the file here as multipart/form-data.")
    fields = serializers.DictField(
        child=serializers.CharField(), help_text="Form fields to send first, as they are; then `file`."
    )
    key = serializers.CharField(help_text="Send this to .../images/complete once the upload succeeded.")
    max_bytes = serializers.IntegerField()
    expires_in = serializers.IntegerField(help_text="Seconds the upload form stays valid.")


class CompleteUploadSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=1024)
    alt_text = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
