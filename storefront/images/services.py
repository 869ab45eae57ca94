"""Changing a product's images: upload (through the web server or straight to S3), delete, and which
image is the product's own. Processing (thumbnails, labels) runs later in `processing`, on Celery.

Nothing half-made is kept: a refused upload stores nothing, and a file stored for a row that then
fails to save is deleted again.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from typing import IO, Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max

from storefront.catalog.models import Product
from storefront.catalog.services import delete_files_on_commit
from storefront.images.models import ProductImage
from storefront.images.storage import direct_uploads
from storefront.images.validation import (
    CONTENT_TYPES,
    EXTENSIONS,
    ImageFacts,
    ImageRejected,
    check_size,
    inspect_image,
    served_type,
)
from storefront.publishing import services as publishing
from tenants.db_backend import connection
from tenants.task_queue import enqueue

_SPOOL_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024


class ImageError(Exception):
    """A request about images the catalog refuses; `field` is the input it is about."""

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


def limits() -> dict[str, int]:
    return {"max_bytes": settings.IMAGE_MAX_BYTES, "max_pixels": settings.IMAGE_MAX_PIXELS}


def check_upload(stream: IO[bytes], byte_size: int) -> ImageFacts:
    try:
        return inspect_image(stream, byte_size=byte_size, **limits())
    except ImageRejected as error:
        raise ImageError(str(error)) from error


def add_image(product: Product, upload: File, *, alt_text: str = "") -> ProductImage:
    """Check an uploaded file, store it and queue its processing; refused: ImageError, nothing stored."""
    facts = check_upload(upload, upload.size or 0)
    name = default_storage.save(_original_name(product, facts.format), upload)
    return _register(product, name, facts, alt_text=alt_text, delete_on_failure=True)


def upload_prefix(product: Product) -> str:
    """Where a product's direct uploads land, relative to the tenant's storage."""
    return f"products/{product.pk}/uploads/"


def presign_upload(product: Product, *, content_type: str) -> dict[str, Any]:
    """A presigned POST for the browser to send one image straight to S3, under this store's prefix."""
    target = direct_uploads()
    if target is None:
        raise ImageError(
            "Direct uploads need S3 media storage (MEDIA_STORAGE=s3); upload the file to this product's images.",
            field="detail",
        )
    kind = next((kind for kind, known in CONTENT_TYPES.items() if known == content_type), None)
    if kind is None:
        raise ImageError("Content type must be image/jpeg, image/png or image/webp.", field="content_type")
    name = f"{upload_prefix(product)}{uuid.uuid4().hex}.{EXTENSIONS[kind]}"
    post = target.presigned_post(
        name, content_type=content_type, max_bytes=settings.IMAGE_MAX_BYTES, expires=settings.IMAGE_UPLOAD_SECONDS
    )
    return {
        "url": post["url"],
        "fields": post["fields"],
        "key": target.key_for(name),
        "max_bytes": settings.IMAGE_MAX_BYTES,
        "expires_in": settings.IMAGE_UPLOAD_SECONDS,
    }


def complete_direct_upload(product: Product, *, key: str, alt_text: str = "") -> ProductImage:
    """Register a file the browser uploaded with a presigned POST: checked here like any upload (size,
    real format, pixel count, decodable) and deleted if refused. Completing the same key again answers
    the image already registered."""
    target = direct_uploads()
    if target is None:
        raise ImageError("Direct uploads need S3 media storage (MEDIA_STORAGE=s3).", field="detail")
    name = target.name_for_key(key)
    if name is None or not _is_upload_name(product, name):
        raise ImageError("This key is not an upload for this product.", field="key")
    existing = ProductImage.objects.filter(original=name).first()
    if existing is not None:
        return existing
    if not default_storage.exists(name):
        raise ImageError("Nothing was uploaded under this key (or it expired).", field="key")
    try:
        byte_size = default_storage.size(name)
        try:
            check_size(byte_size, settings.IMAGE_MAX_BYTES)  # before reading a byte of it
        except ImageRejected as error:
            raise ImageError(str(error)) from error
        with default_storage.open(name, "rb") as stored, _spooled(stored) as local:
            facts = check_upload(local, byte_size)
        if not name.endswith(f".{EXTENSIONS[facts.format]}"):
            # The key's extension (and the object's type) is what was presigned: the bytes must agree.
            raise ImageError(
                f"The file is a {facts.format.upper()} image but was announced as "
                f"{served_type(name)}: ask for an upload of the right type."
            )
    except ImageError:
        default_storage.delete(name)
        raise
    return _register(product, name, facts, alt_text=alt_text, delete_on_failure=True)


def _is_upload_name(product: Product, name: str) -> bool:
    """Could `presign_upload` have made this name for this product?"""
    return re.fullmatch(rf"{re.escape(upload_prefix(product))}[0-9a-f]{{32}}\.(jpg|png|webp)", name) is not None


def _spooled(stored: IO[bytes]) -> Any:
    """A local, seekable copy (Pillow seeks a lot; each seek on S3 would be a request)."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - closed by the caller
    while chunk := stored.read(_CHUNK):
        spool.write(chunk)
    spool.seek(0)
    return spool


def _original_name(product: Product, fmt: str) -> str:
    # A fresh name per upload: never guessable, never overwriting.
    return f"products/{product.pk}/originals/{uuid.uuid4().hex}.{EXTENSIONS[fmt]}"


def _register(
    product: Product, name: str, facts: ImageFacts, *, alt_text: str, delete_on_failure: bool
) -> ProductImage:
    try:
        with transaction.atomic():
            # The product row is the lock for its images' positions and main image.
            Product.objects.select_for_update().filter(pk=product.pk).values("pk").first()
            last = ProductImage.objects.filter(product=product).aggregate(last=Max("position"))["last"]
            image = ProductImage.objects.create(
                product=product,
                original=name,
                position=0 if last is None else last + 1,
                alt_text=alt_text[:200],
                format=facts.format,
                byte_size=facts.byte_size,
                width=facts.width,
                height=facts.height,
            )
            queue_processing(image)
    except IntegrityError:
        # The same stored file registered meanwhile (a replayed completion): that one stands.
        existing = ProductImage.objects.filter(original=name).first()
        if existing is not None:
            return existing
        if delete_on_failure:
            default_storage.delete(name)
        raise
    except BaseException:
        if delete_on_failure:
            default_storage.delete(name)
        raise
    return image


def queue_processing(image: ProductImage) -> None:
    """Queue the image's processing once its row is committed, in this store's schema."""
    image_id = image.pk
    # Pinned now: the task must run where the row is, whatever the connection's schema at commit.
    headers = {"_schema_name": connection.schema_name}
    transaction.on_commit(lambda: enqueue("images.process_image", image_id, headers=headers))


def delete_image(image: ProductImage) -> None:
    """Delete an image and, after commit, its files; the next ready image becomes the product's."""
    names = image.stored_names()
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=image.product_id).values("pk").first()
        ProductImage.objects.filter(pk=image.pk).delete()
        choose_main_image(image.product_id)
        if image.status == ProductImage.Status.READY:
            publishing.record_product_changes([image.product_id])  # its labels leave the listing
        delete_files_on_commit(default_storage, names)


def describe_image(image: ProductImage, alt_text: str) -> ProductImage:
    """Change what a photo is said to show (read aloud to people who can't see it); blank clears it."""
    described = " ".join(alt_text.split())
    limit = ProductImage._meta.get_field("alt_text").max_length or 200
    if len(described) > limit:
        raise ImageError(f"Describe the photo in at most {limit} characters.", field="alt_text")
    ProductImage.objects.filter(pk=image.pk).update(alt_text=described)
    image.alt_text = described
    return image


def images_reordered(product: Product) -> None:
    """After positions changed: the first ready image is the product's image again."""
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).values("pk").first()
        choose_main_image(product.pk)
        publishing.record_product_changes([product.pk])


def forget_product_images(product: Product) -> None:
    """Before a product is deleted: its images' files go once the deletion commits (rows cascade)."""
    names = [name for image in ProductImage.objects.filter(product=product) for name in image.stored_names()]
    if names:
        delete_files_on_commit(default_storage, names)


def choose_main_image(product_id: int) -> ProductImage | None:
    """Mark the product's first ready image (by position) as its image. Call with the product locked."""
    first = (
        ProductImage.objects.filter(product_id=product_id, status=ProductImage.Status.READY)
        .order_by("position", "id")
        .first()
    )
    # Cleared first: the database allows one main image per product at any moment.
    others = ProductImage.objects.filter(product_id=product_id, is_main=True)
    if first is not None:
        others = others.exclude(pk=first.pk)
    others.update(is_main=False)
    if first is not None and not first.is_main:
        ProductImage.objects.filter(pk=first.pk).update(is_main=True)
        first.is_main = True
    return first
