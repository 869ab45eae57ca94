"""Reading product images: a product's images, its main image, and lists that carry it without N+1."""

from __future__ import annotations

from typing import TypeVar

from django.core.files.storage import default_storage
from django.db.models import Prefetch, QuerySet

from storefront.catalog.models import Product
from storefront.images.models import ProductImage

_Q = TypeVar("_Q", bound=QuerySet[Product])
MAIN_IMAGE_ATTR = "main_images"


def product_images(product: Product | int) -> QuerySet[ProductImage]:
    return ProductImage.objects.filter(product=product).order_by("position", "id")


def with_main_image(products: _Q) -> _Q:
    """Products with their main image fetched in one more query for the whole list (see the include)."""
    main = ProductImage.objects.filter(is_main=True)
    return products.prefetch_related(Prefetch("images", queryset=main, to_attr=MAIN_IMAGE_ATTR))  # type: ignore[return-value]


def main_image(product: Product) -> ProductImage | None:
    """The product's image: from `with_main_image` if the list prefetched it, else one query."""
    prefetched = getattr(product, MAIN_IMAGE_ATTR, None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return ProductImage.objects.filter(product=product, is_main=True).first()


def thumbnail_urls(image: ProductImage, size: str) -> dict[str, str]:
    """{"webp": url, "jpeg": url, "width": .., "height": ..} of one thumbnail size (what exists of it)."""
    variant = image.thumbnails.get(size) or {}
    urls: dict[str, str] = {}
    for kind in ("webp", "jpeg"):
        if variant.get(kind):
            urls[kind] = default_storage.url(variant[kind])
    return urls


def labels_of(product: Product | int) -> list[str]:
    """The labels of a product's ready images, first image first, each label once."""
    seen: dict[str, None] = {}
    rows = (
        ProductImage.objects.filter(product=product, status=ProductImage.Status.READY)
        .order_by("position", "id")
        .values_list("labels", flat=True)
    )
    for labels in rows:
        for label in labels:
            seen.setdefault(label, None)
    return list(seen)
