"""`storage_gb` usage measured by the platform: once a day, what each store keeps here, its database
schema and its media, recorded as a peak (the period is billed its largest day).

- **Database**: ``pg_total_relation_size`` of every table of the store's schema (indexes and TOAST
  included), for a thousand schemas per query over pg_class and pg_namespace (no loop per schema).
- **Media**: the size of every file under ``<MEDIA_ROOT>/<schema>/`` with filesystem storage, or of every
  object under ``<AWS_LOCATION>/<schema>/`` in the bucket with S3 (one LIST request per 1,000 objects).
- **Quantity**: the sum in GB (10^9 bytes), rounded up: a started gigabyte counts.

The beat task `billing.measure_storage` runs every USAGE_STORAGE_CHECK_SECONDS (hourly) and measures
only the stores with no measurement yet today (UTC), so a missed or failed run is made up by the next
one. Each store's measurement has the idempotency key ``storage-<YYYY-MM-DD>``: a replayed run records
nothing twice, and one racing another keeps the first measurement of the day.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import get_public_schema_name
from storages.backends.s3 import S3Storage

from billing import services
from billing.models import Metric, UsageEvent
from billing.usage_batches import MAX_BATCH_SIZE, UsageEventIn
from tenants.db_backend import connection
from tenants.models import Tenant

logger = logging.getLogger(__name__)

GB = 10**9
KEY_PREFIX = "storage-"

# Tables and materialized views; their indexes and TOAST are counted by pg_total_relation_size
# (partitioned parents hold nothing themselves: their partitions are tables).
_SCHEMA_SIZES = """
SELECT n.nspname, COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'm')
WHERE n.nspname = ANY(%s)
GROUP BY n.nspname
"""


@dataclass(frozen=True)
class StoreStorage:
    tenant_id: int
    schema_name: str
    database_bytes: int
    media_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.database_bytes + self.media_bytes

    @property
    def gigabytes(self) -> int:
        return math.ceil(self.total_bytes / GB)


def stores_here() -> QuerySet[Tenant]:
    """The stores whose data is in this database: every shared store (the platform), or the one store of
    a dedicated stack (its data is `public`). A dedicated store's stack measures its own."""
    if settings.TENANCY_MODE == "dedicated":
        return Tenant.objects.all()
    return Tenant.objects.filter(tenancy=Tenant.Tenancy.SHARED).exclude(schema_name=get_public_schema_name())


def database_bytes(schemas: list[str]) -> dict[str, int]:
    """Bytes held by each schema's tables (one query); a schema that does not exist is left out."""
    with connection.cursor() as cursor:
        cursor.execute(_SCHEMA_SIZES, [schemas])
        return {name: int(size) for name, size in cursor.fetchall()}


def media_bytes(schema: str) -> int:
    """Bytes of the schema's media in the default storage."""
    storage = storages["default"]
    if isinstance(storage, S3Storage):
        base = (settings.AWS_LOCATION or "").strip("/")
        prefix = f"{base}/{schema}/" if base else f"{schema}/"
        return sum(item.size for item in storage.bucket.objects.filter(Prefix=prefix))
    if isinstance(storage, FileSystemStorage):
        relative = getattr(settings, "MULTITENANT_RELATIVE_MEDIA_ROOT", "%s")
        return _folder_bytes(Path(settings.MEDIA_ROOT) / (relative % schema if "%s" in relative else schema))
    logger.warning("media of %s not measured: unknown storage %s", schema, type(storage).__name__)
    return 0


def _folder_bytes(folder: Path) -> int:
    total = 0
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += _folder_bytes(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except FileNotFoundError:  # deleted while we looked
            continue
    return total


def measure(stores: list[tuple[int, str]]) -> list[StoreStorage]:
    """Each store's (tenant id, schema) storage now; a store whose schema is missing is left out."""
    sizes = database_bytes([schema for _, schema in stores])
    measured = []
    for tenant_id, schema in stores:
        if schema not in sizes:
            logger.warning("storage not measured: schema %s of tenant %s is missing", schema, tenant_id)
            continue
        measured.append(StoreStorage(tenant_id, schema, sizes[schema], media_bytes(schema)))
    return measured


def record_daily_storage(now: datetime | None = None) -> int:
    """Measure every store not yet measured today and record its `storage_gb`; answers how many stores
    were recorded. A thousand stores at a time: one query for who is done, one for the schemas' sizes,
    one batch of usage."""
    now = now or timezone.now()
    key = f"{KEY_PREFIX}{now.date().isoformat()}"
    recorded = 0
    for chunk in _chunks(stores_here().order_by("pk").values_list("pk", "schema_name")):
        done = set(
            UsageEvent.objects.filter(tenant_id__in=[pk for pk, _ in chunk], idempotency_key=key).values_list(
                "tenant_id", flat=True
            )
        )
        todo = [(pk, schema) for pk, schema in chunk if pk not in done]
        if not todo:
            continue
        events = [UsageEventIn(s.tenant_id, Metric.STORAGE_GB, s.gigabytes, key, now) for s in measure(todo)]
        recorded += record_measurements(events)
    return recorded


def record_measurements(events: list[UsageEventIn]) -> int:
    """Record the day's measurements; those a racing run recorded first (with another size) are left
    as they are, and the rest recorded."""
    try:
        return services.record_usage_batch(events).accepted
    except services.UsageRefused as refusal:
        taken = {error.index for error in refusal.errors if error.code == "idempotency_key_reused"}
        if len(taken) < len(refusal.errors):
            raise
        rest = [event for index, event in enumerate(events) if index not in taken]
        return services.record_usage_batch(rest).accepted if rest else 0


def _chunks(rows: QuerySet[Tenant, tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for row in rows.iterator(chunk_size=MAX_BATCH_SIZE):
        chunk.append(row)
        if len(chunk) == MAX_BATCH_SIZE:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
