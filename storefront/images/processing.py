"""Processing an uploaded image (in a Celery task, in the store's schema): thumbnails in WebP (and a JPEG
fallback), EXIF stripped after the orientation is applied, labels, then ready and, if it is the
product's first ready image, the product's image: all in one transaction.

Safe to run again: a ready or failed image is left alone, thumbnail names are fixed per image (a rerun
overwrites, never duplicates), and on failure every file this run wrote is deleted before the image is
marked failed with the reason.
"""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from storefront.catalog.models import Product
from storefront.images import thumbnails
from storefront.images.labelers import LabelSubject, get_labeler
from storefront.images.models import ProductImage
from storefront.images.services import choose_main_image
from storefront.images.validation import ImageRejected, inspect_image
from storefront.publishing import services as publishing

log = logging.getLogger(__name__)
_EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}


def thumbnail_name(image: ProductImage, size: str, kind: str) -> str:
    return f"products/{image.product_id}/images/{image.pk}/{size}.{_EXTENSIONS[kind]}"


def process_image(image_id: int) -> ProductImage | None:
    image = ProductImage.objects.select_related("product").filter(pk=image_id).first()
    if image is None or image.status != ProductImage.Status.PROCESSING:
        return image
    written: list[str] = []
    try:
        upright, facts_format = _read_upright(image)
        variants: dict[str, dict[str, object]] = {}
        for rendition in thumbnails.render(upright):
            name = thumbnail_name(image, rendition.size, rendition.kind)
            _write(name, rendition.content)
            written.append(name)
            entry = variants.setdefault(rendition.size, {"width": rendition.width, "height": rendition.height})
            entry[rendition.kind] = name
        subject = LabelSubject(
            image=upright, format=facts_format, width=upright.width, height=upright.height, tags=image.product.tags
        )
        labels = get_labeler().labels(subject)
        return _finish(image, variants, labels, upright.size, written)
    except ImageRejected as error:
        return _fail(image, written, str(error))
    except Exception:
        log.exception("image %s: processing failed", image_id)
        _fail(image, written, "The image could not be processed. Upload it again.")
        raise


def _read_upright(image: ProductImage) -> tuple[Image.Image, str]:
    with image.original.open("rb") as stored:
        data = stored.read(settings.IMAGE_MAX_BYTES + 1)
    facts = inspect_image(
        io.BytesIO(data),
        byte_size=len(data),
        max_bytes=settings.IMAGE_MAX_BYTES,
        max_pixels=settings.IMAGE_MAX_PIXELS,
    )
    with Image.open(io.BytesIO(data)) as source:
        source.load()
        return thumbnails.upright(source), facts.format


def _write(name: str, content: bytes) -> None:
    # Fixed names: a rerun replaces what an earlier, interrupted run wrote.
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # pragma: no cover - a concurrent run wrote it between the two calls
        default_storage.delete(saved)


def _finish(
    image: ProductImage,
    variants: dict[str, dict[str, object]],
    labels: list[str],
    size: tuple[int, int],
    written: list[str],
) -> ProductImage | None:
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=image.product_id).values("pk").first()
        current = ProductImage.objects.select_for_update().filter(pk=image.pk).first()
        if current is None or current.status == ProductImage.Status.FAILED:
            # Deleted (or given up on) while this run worked: what it wrote belongs to nothing.
            _delete(written)
            return current
        if current.status == ProductImage.Status.READY:
            return current  # another run finished the same work, under the same names
        current.thumbnails = variants
        current.labels = labels
        current.width, current.height = size
        current.status = ProductImage.Status.READY
        current.message = ""
        current.processed_at = timezone.now()
        current.save(update_fields=["thumbnails", "labels", "width", "height", "status", "message", "processed_at"])
        choose_main_image(current.product_id)
        current.refresh_from_db(fields=["is_main"])
        # The marketplace listing carries the labels: republished through the store's outbox.
        publishing.record_product_changes([current.product_id])
    return current


def _fail(image: ProductImage, written: list[str], message: str) -> ProductImage | None:
    _delete(written)
    with transaction.atomic():
        current = ProductImage.objects.select_for_update().filter(pk=image.pk).first()
        if current is None or current.status != ProductImage.Status.PROCESSING:
            return current
        original = current.original.name or ""
        current.status = ProductImage.Status.FAILED
        current.message = message[:300]
        current.thumbnails = {}
        current.processed_at = timezone.now()
        current.save(update_fields=["status", "message", "thumbnails", "processed_at"])
    # The failed row stays to say why; the file it could not use does not.
    _delete([original] if original else [])
    return current


def _delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # noqa: BLE001 - cleanup must go on; the orphan is logged
            log.warning("could not delete %s", name, exc_info=True)
