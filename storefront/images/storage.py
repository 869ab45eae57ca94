"""Media storage on S3 namespaced by tenant, and the direct (presigned POST) uploads it allows.

`MEDIA_STORAGE=s3` makes `TenantS3Storage` the default storage: every key starts with the schema of the
tenant the connection is in (`<AWS_LOCATION>/<schema>/...`), as `TenantFileSystemStorage` puts files in
`<MEDIA_ROOT>/<schema>/`. The filesystem storage has no direct uploads; callers ask `direct_uploads()`.
Objects are typed by their names, and a direct upload's key and type are fixed by the server.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from storages.backends.s3 import S3Storage

from storefront.images.validation import served_type
from tenants.db_backend import connection


class DirectUploads(Protocol):
    """A storage that lets a browser upload straight to it (the web server never holds the bytes)."""

    def presigned_post(self, name: str, *, content_type: str, max_bytes: int, expires: int) -> dict[str, Any]: ...

    def key_for(self, name: str) -> str: ...

    def name_for_key(self, key: str) -> str | None: ...


class TenantS3Storage(S3Storage):
    """django-storages' S3 storage whose location is the current tenant's schema."""

    @property  # type: ignore[override]
    def location(self) -> str:
        base = (getattr(settings, "AWS_LOCATION", "") or "").strip("/")
        return f"{base}/{connection.schema_name}" if base else connection.schema_name

    @location.setter
    def location(self, value: str) -> None:
        # django-storages assigns its AWS_LOCATION default here; the tenant decides instead.
        pass

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Each object's type comes from its server-made name, never from the upload's claimed
        Content-Type (which django-storages would otherwise keep): images as themselves, anything else
        (CSV imports, error reports) as a download, so the bucket never serves a page or an SVG."""
        params = dict(super().get_object_parameters(name))
        content_type = served_type(name)
        if content_type is not None:
            params["ContentType"] = content_type
        else:
            params["ContentType"] = "application/octet-stream"
            params["ContentDisposition"] = "attachment"
        return params

    def key_for(self, name: str) -> str:
        """The object key of a storage name, in this tenant's prefix."""
        return self._normalize_name(name)

    def name_for_key(self, key: str) -> str | None:
        """The storage name of an object key, or None if the key is outside this tenant's prefix."""
        prefix = self.location + "/"
        if not key.startswith(prefix) or ".." in key.split("/"):
            return None
        return key[len(prefix) :]

    def presigned_post(self, name: str, *, content_type: str, max_bytes: int, expires: int) -> dict[str, Any]:
        """URL and form fields for a browser to POST one file of at most `max_bytes` to `name`."""
        key = self.key_for(name)
        client = self.connection.meta.client
        return client.generate_presigned_post(
            Bucket=self.bucket_name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[["content-length-range", 1, max_bytes], {"Content-Type": content_type}],
            ExpiresIn=expires,
        )


def direct_uploads(storage: Storage | None = None) -> DirectUploads | None:
    """The storage's direct uploads, or None where it has none (the filesystem)."""
    target = storage if storage is not None else default_storage
    # default_storage is a lazy proxy: hasattr() sets it up and looks at the real storage.
    return target if hasattr(target, "presigned_post") else None  # type: ignore[return-value]
