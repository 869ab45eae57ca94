"""`{% product_thumbnail product size as thumb %}`: what `shop/_product_image.html` needs to show a
product's image at a size, or None for the placeholder. Lists should fetch products through
`storefront.images.selectors.with_main_image` so this costs no query per product."""

from __future__ import annotations

from typing import Any

from django import template

from storefront.images import selectors
from storefront.images.thumbnails import SIZES, SMALL

register = template.Library()

_ALIASES = {"small": "268x200", "card": "268x200", "medium": "536x400", "large": "1072x800"}
_ORDER = [name for name, _, _ in SIZES]


@register.simple_tag
def product_thumbnail(product: Any, size: str = SMALL) -> dict[str, Any] | None:
    image = selectors.main_image(product) if product is not None else None
    if image is None:
        return None
    size = _ALIASES.get(size, size)
    if size not in _ORDER:
        size = SMALL
    variant = image.thumbnails.get(size) or {}
    urls = selectors.thumbnail_urls(image, size)
    if "webp" not in urls:
        return None
    # The next size up serves screens with twice the pixel density.
    bigger = _ORDER[_ORDER.index(size) + 1] if size != _ORDER[-1] else None
    double = selectors.thumbnail_urls(image, bigger).get("webp") if bigger else None
    fallback = selectors.thumbnail_urls(image, SMALL).get("jpeg") or urls["webp"]
    return {
        "webp": urls["webp"],
        "webp_2x": double,
        "fallback": fallback,
        "width": variant.get("width"),
        "height": variant.get("height"),
        "alt": image.alt_text or getattr(product, "title", ""),
    }


@register.simple_tag
def image_url(image: Any, size: str = SMALL, kind: str = "webp") -> str:
    """The URL of one thumbnail of an image ("" if it has none)."""
    return selectors.thumbnail_urls(image, _ALIASES.get(size, size)).get(kind, "")
