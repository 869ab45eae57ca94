"""Images attached to messages: checked exactly as product images are (the bytes decide the format, size and
pixel count are bounded, the whole file is decoded once), then re-encoded at a bounded size so that no
metadata a phone writes (GPS position, camera serial) reaches the other side. Stored under the store's
own media folder with a server-made name, served only to the thread's buyer and the store's members."""

from __future__ import annotations

import io
import uuid
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from PIL import Image, ImageOps

from storefront.images.validation import CONTENT_TYPES, EXTENSIONS, ImageRejected, inspect_image
from storefront.images.views import inline_image

# The longest side an attached picture is kept at.
MAX_SIDE = 2048


class AttachmentRejected(ValueError):
    """Not an image we accept; the message says why."""


def store_attachment(stream: IO[bytes], byte_size: int) -> tuple[str, str]:
    """Check and re-encode an uploaded image; return its storage name and content type. Refused:
    AttachmentRejected, nothing stored."""
    try:
        facts = inspect_image(
            stream,
            byte_size=byte_size,
            max_bytes=settings.MESSAGE_IMAGE_MAX_BYTES,
            max_pixels=settings.IMAGE_MAX_PIXELS,
        )
    except ImageRejected as error:
        raise AttachmentRejected(str(error)) from error
    with Image.open(stream) as image:
        picture = ImageOps.exif_transpose(image)  # keep the orientation the metadata gave, then drop it
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
        kind = "png" if facts.format == "png" else "jpeg"
        if kind == "jpeg" and picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        out = io.BytesIO()
        picture.save(out, format=kind.upper(), **({"quality": 85} if kind == "jpeg" else {}))
    name = default_storage.save(f"messages/{uuid.uuid4().hex}.{EXTENSIONS[kind]}", ContentFile(out.getvalue()))
    return name, CONTENT_TYPES[kind]


def forget_attachment(name: str) -> None:
    if name:
        default_storage.delete(name)


def image_response(name: str, content_type: str) -> FileResponse:
    """The stored picture, for one of the thread's two sides (the caller checked which)."""
    try:
        stream = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    return inline_image(stream, content_type, cache_control="private, max-age=3600")
