"""Serving a store's public media from the filesystem storage (make dev, small installs): thumbnails and
the seller's photo, on the store's own host, from that store's folder only. With S3 the storage's URLs
point at the bucket (or its CDN) and this view is not used.

Only names the server makes are served, only as the image type their extension says, with headers that
keep a browser from running anything even if a file's bytes were a page: the store's host is where its
members are signed in."""

from __future__ import annotations

import re
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest

from storefront.images.validation import served_type

# One pattern per kind of public file; originals (which may carry EXIF/GPS), direct uploads and import
# files are never served.
_PUBLIC = (
    # thumbnails: processing.thumbnail_name
    re.compile(r"products/\d+/images/\d+/\d+x\d+\.(webp|jpg)"),
    # the seller's photo: catalog.models._seller_photo_path
    re.compile(r"seller/[0-9a-f]{32}\.(jpg|png|webp)"),
    # a seller photo stored before names were the server's (a random folder, then the client's name):
    # shown only if that name ended like an image, and then only ever served as one.
    re.compile(r"seller/[0-9a-f]{32}/[\w.-]+\.(?i:jpe?g|png|webp)"),
)
# The file is data to show, never a document: no script, plugin, form or frame runs from it.
MEDIA_CSP = "default-src 'none'; sandbox"


def serve_media(request: HttpRequest, schema: str, name: str) -> FileResponse:
    tenant = getattr(request, "tenant", None)
    if tenant is None or schema != tenant.schema_name or not any(kind.fullmatch(name) for kind in _PUBLIC):
        raise Http404
    content_type = served_type(name)
    if content_type is None:  # pragma: no cover - every public pattern ends in an image extension
        raise Http404
    try:
        default_storage.path(name)
    except NotImplementedError:
        raise Http404 from None  # not a filesystem storage: its own URLs serve the files
    try:
        stream = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    # Names never change content (a new upload gets a new name), so browsers may keep them.
    return inline_image(stream, content_type, cache_control="public, max-age=31536000, immutable")


def inline_image(stream: Any, content_type: str, *, cache_control: str) -> FileResponse:
    """A stored picture as itself, with the headers that keep a browser from running anything in it."""
    response = FileResponse(stream, content_type=content_type)
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Content-Disposition"] = "inline"
    return response
