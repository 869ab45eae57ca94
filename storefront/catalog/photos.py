"""The seller's photo: which uploads are accepted as one (the image pipeline, with thumbnails, comes later)."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Recognised by their first bytes, not by the name or the Content-Type the client claims.
_SIGNATURES = {
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
}


class PhotoInvalid(ValueError):
    pass


def image_kind(head: bytes) -> str | None:
    """`jpeg`, `png` or `webp` from a file's first bytes, else None."""
    for signature, kind in _SIGNATURES.items():
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def check_photo(upload: UploadedFile) -> None:
    if upload.size is not None and upload.size > MAX_PHOTO_BYTES:
        raise PhotoInvalid(f"The photo must be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if image_kind(head) is None:
        raise PhotoInvalid("The photo must be a JPEG, PNG or WebP image.")
