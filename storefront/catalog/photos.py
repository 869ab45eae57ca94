"""The seller's photo: which uploads are accepted as one, and the file kept of it (re-encoded from its
pixels, named by what it really is)."""

from __future__ import annotations

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from PIL import Image

from storefront.images import thumbnails
from storefront.images.validation import EXTENSIONS, ImageRejected, inspect_image

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Shown at 96px (192px on a dense screen); kept larger for what may show it bigger later.
MAX_PHOTO_SIDE = 1024


class PhotoInvalid(ValueError):
    pass


def clean_photo(upload: File) -> ContentFile[bytes]:
    """The photo to store, or PhotoInvalid. The upload is decoded as a whole (a file that merely starts
    like a JPEG is refused) and only its pixels are kept: turned upright, at most MAX_PHOTO_SIDE a side,
    re-encoded in its own format, so nothing else it carried (a page, a script, the camera's GPS
    position) is ever stored or served. Its name is `photo.<extension of that format>`; storage adds
    the rest (see `SellerProfile.photo`)."""
    try:
        facts = inspect_image(
            upload, byte_size=upload.size or 0, max_bytes=MAX_PHOTO_BYTES, max_pixels=settings.IMAGE_MAX_PIXELS
        )
        with Image.open(upload) as image:
            upright = thumbnails.upright(image)
    except ImageRejected as error:
        raise PhotoInvalid(str(error)) from error
    finally:
        upload.seek(0)
    size = thumbnails.fit_within(upright.width, upright.height, MAX_PHOTO_SIDE, MAX_PHOTO_SIDE)
    if size != upright.size:
        upright = upright.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return ContentFile(thumbnails.encode(upright, facts.format), name=f"photo.{EXTENSIONS[facts.format]}")
