"""Serving a store's public media from the filesystem storage (make dev, small installs): thumbnails and
the seller's photo, on the store's own host, from that store's folder only. With S3 the storage's URLs
point at the bucket (or its CDN) and this view is not used."""

from __future__ import annotations

import mimetypes
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest

# Originals (which may carry EXIF/GPS) and import files are never served.
_PUBLIC = re.compile(r"^(products/\d+/images/\d+/\d+x\d+\.(webp|jpg)|seller/[0-9a-f]{32}/[^/]+)$")


def serve_media(request: HttpRequest, schema: str, name: str) -> FileResponse:
    tenant = getattr(request, "tenant", None)
    if tenant is None or schema != tenant.schema_name or not _PUBLIC.match(name):
        raise Http404
    try:
        default_storage.path(name)
    except NotImplementedError:
        raise Http404 from None  # not a filesystem storage: its own URLs serve the files
    try:
        stream = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stream, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    # Names never change content (a new upload gets a new name), so browsers may keep them.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
