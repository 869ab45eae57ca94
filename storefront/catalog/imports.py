"""CSV import of products: `start_import` takes an upload and queues it; `run_import` (in a Celery task,
in the store's schema) imports it in batches.

Memory stays bounded whatever the file's size: the file is read a line at a time and a batch of rows is
held at once. Each batch is one transaction that upserts its products by SKU, records its refused rows
and moves the job's counters, so the counters always match the catalog and a task that dies part-way
resumes after the last committed batch. SKU is the key: importing a file again updates, never duplicates.
Within a file the last row for a SKU wins, as it would in two files imported in turn.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing import limits
from storefront.catalog import page_cache, product_csv, selectors, services
from storefront.catalog.models import Category, ImportJob, ImportRowError, Product
from storefront.publishing import services as publishing
from tenants.accounts.models import User
from tenants.db_backend import connection
from tenants.task_queue import enqueue

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# The header must fit in this much of the file's start (a few dozen bytes in practice).
_HEADER_PEEK_BYTES = 64 * 1024
_REPORT_SPOOL_BYTES = 1024 * 1024


class ImportRefused(Exception):
    """The upload can't be imported at all (nothing was created); the message says why."""


def _readable_size(n: int) -> str:
    """10 MB, 512 KB or 100 bytes: a limit as a merchant reads it (never "0 MB")."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


def start_import(upload: UploadedFile | File, *, user: User | None = None, source_key: str = "") -> ImportJob:
    """Check the upload's header, store the file and queue its import once the job row is committed."""
    if not upload.size:
        raise ImportRefused("The file is empty.")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ImportRefused(f"The file is larger than {_readable_size(MAX_UPLOAD_BYTES)}; split it into parts.")
    header_cells = _peek_header(upload)
    try:
        header = product_csv.read_header(header_cells)
    except product_csv.HeaderInvalid as error:
        raise ImportRefused(str(error)) from error
    upload.seek(0)

    job = ImportJob(
        source_name=(upload.name or "products.csv")[:255],
        header=[cell for cell, name in zip(header_cells, header.columns, strict=True) if name is not None],
        created_by=user,
        source_key=source_key,
    )
    job.file.save(job.source_name, upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            job_id = job.pk
            # The schema is pinned now, not read when the callback runs: the task must run where the
            # job row is, whatever schema the connection is in by the time the commit happens.
            headers = {"_schema_name": connection.schema_name}
            transaction.on_commit(lambda: enqueue("catalog.import_products", job_id, headers=headers))
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def _peek_header(upload: UploadedFile | File) -> list[str]:
    upload.seek(0)
    head = upload.read(_HEADER_PEEK_BYTES)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as error:
        raise ImportRefused("The file is not UTF-8 text: save it as 'CSV UTF-8' and upload it again.") from error
    first_line = text.splitlines()[0] if text.strip() else ""
    if len(head) == _HEADER_PEEK_BYTES and "\n" not in text and "\r" not in text:
        raise ImportRefused("The first line is too long to be a header.")
    try:
        return next(csv.reader([first_line]), [])
    except csv.Error as error:
        raise ImportRefused(f"The header is not valid CSV: {error}.") from error


def delete_import(job: ImportJob) -> None:
    """Forget a finished import: its row, its refused rows and, after commit, its files."""
    if not job.is_finished:
        raise ImportRefused("An import can be deleted once it has finished.")
    names = [name for name in (job.file.name, job.error_report.name) if name]
    with transaction.atomic():
        job.delete()
        services.delete_files_on_commit(job.file.storage, names)


class _Superseded(Exception):
    """Another run of the same job got ahead of this one (a redelivered task); this one stops."""


def run_import(job_id: int) -> ImportJob:
    """Import (or resume importing) a job's file. Safe to call again: a finished job is left as it is."""
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    try:
        if not job.processed_rows:
            total = sum(1 for _ in product_csv.records(_data_rows(job)[1]))
            ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
            job.total_rows = total
        _import_rows(job)
    except _Superseded:
        log.info("import job %s: another run is ahead of this one; stopping", job.pk)
        return ImportJob.objects.get(pk=job_id)
    except (product_csv.HeaderInvalid, UnicodeDecodeError, csv.Error) as error:
        _finish(job, ImportJob.Status.FAILED, _describe(error))
    except Exception:
        _finish(job, ImportJob.Status.FAILED, "The import stopped on an unexpected error. Upload the file again.")
        raise
    else:
        _finish(job, ImportJob.Status.SUCCEEDED)
    return ImportJob.objects.get(pk=job_id)


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return None
        job.status = ImportJob.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "started_at"])
    return job


def _describe(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "The file is not UTF-8 text: save it as 'CSV UTF-8' and upload it again."
    if isinstance(error, csv.Error):
        return f"The file is not valid CSV: {error}."
    return str(error)


def _text_lines(job: ImportJob) -> Iterator[str]:
    """The file's lines as text, read a line at a time (never the whole file)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with job.file.open("rb") as stream:
        for line in stream:
            yield decoder.decode(line)
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def _data_rows(job: ImportJob) -> tuple[product_csv.Header, Iterator[list[str]]]:
    reader = csv.reader(_text_lines(job))
    header = product_csv.read_header(next(reader, []))
    return header, reader


def _batches(records: Iterable[tuple[int, Sequence[str]]], size: int) -> Iterator[list[tuple[int, Sequence[str]]]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _import_rows(job: ImportJob) -> None:
    header, rows = _data_rows(job)
    # Rows already committed by an earlier run of this job are skipped, not imported twice.
    remaining = itertools.islice(product_csv.records(rows), job.processed_rows, None)
    done = job.processed_rows
    for batch in _batches(remaining, BATCH_SIZE):
        _import_batch(job, header, batch, done)
        done += len(batch)


# Which model fields a CSV column fills (sku is the key, never updated).
_UPDATABLE = {name: name for name in product_csv.COLUMNS if name != "sku"}


def _import_batch(
    job: ImportJob, header: product_csv.Header, batch: list[tuple[int, Sequence[str]]], done: int
) -> None:
    parsed: dict[str, product_csv.ProductRow] = {}
    sources: dict[str, tuple[int, Sequence[str]]] = {}
    refused: list[ImportRowError] = []
    repeats = 0
    for row_number, cells in batch:
        try:
            row = product_csv.parse_row(header, cells)
        except product_csv.RowInvalid as error:
            refused.append(_refusal(job, header, row_number, cells, str(error)))
            continue
        repeats += row.sku in parsed
        parsed[row.sku] = row
        sources[row.sku] = (row_number, cells)

    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().only("processed_rows", "status").get(pk=job.pk)
        if locked.processed_rows != done or locked.is_finished:
            raise _Superseded
        for sku, message in _beyond_plan_limit(parsed):
            del parsed[sku]
            refused.append(_refusal(job, header, *sources[sku], message))
        created = _upsert(parsed, header) if parsed else 0
        ImportRowError.objects.bulk_create(refused)
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=F("processed_rows") + len(batch),
            created_count=F("created_count") + created,
            # A SKU seen again in the same batch overwrote the earlier row: an update, as across batches.
            updated_count=F("updated_count") + len(parsed) - created + repeats,
            failed_count=F("failed_count") + len(refused),
        )


def _beyond_plan_limit(parsed: dict[str, product_csv.ProductRow]) -> list[tuple[str, str]]:
    """New products past the plan's product limit, with the message their rows get (updates of
    existing products are never refused)."""
    # In the batch's transaction: other additions wait until it commits, so the allowance holds.
    limits.lock_store_additions("products")
    allowance = limits.store_remaining("products", current=Product.objects.count())
    if allowance is None:
        return []
    existing = set(Product.objects.filter(sku__in=list(parsed)).values_list("sku", flat=True))
    beyond = [sku for sku in parsed if sku not in existing][allowance:]
    if not beyond:
        return []
    tenant = limits.current_store()
    assert tenant is not None  # an allowance comes from a store's plan
    message = limits.limit_reached(tenant, "products").message
    return [(sku, message) for sku in beyond]


def _upsert(parsed: dict[str, product_csv.ProductRow], header: product_csv.Header) -> int:
    """Insert or update the batch's products in one statement; returns how many were new."""
    category_ids = _category_ids({row.category for row in parsed.values() if row.category})
    existing = set(Product.objects.filter(sku__in=list(parsed)).values_list("sku", flat=True))
    products = [
        Product(
            sku=row.sku,
            title=row.title,
            description=row.description,
            price=row.price,
            currency=row.currency,
            stock=row.stock,
            status=row.status,
            category_id=category_ids.get(row.category),
            tags=list(row.tags),
        )
        for row in parsed.values()
    ]
    # A column the file doesn't have is left as it is on existing products.
    update_fields = [_UPDATABLE[name] for name in header.present if name in _UPDATABLE] + ["updated_at"]
    Product.objects.bulk_create(products, update_conflicts=True, unique_fields=["sku"], update_fields=update_fields)
    # In the batch's transaction: the marketplace hears of exactly the rows that committed.
    publishing.record_product_changes(product.pk for product in products)
    page_cache.catalog_changed()  # bulk writes send no model signals
    return len(parsed) - len(existing)


def _category_ids(slugs: set[str]) -> dict[str, int]:
    """Ids of the categories the batch names; a category the store doesn't have yet is made."""
    if not slugs:
        return {}
    Category.objects.bulk_create(
        [Category(slug=slug, name=slug.replace("-", " ").capitalize()) for slug in sorted(slugs)],
        ignore_conflicts=True,
    )
    return dict(Category.objects.filter(slug__in=slugs).values_list("slug", "id"))


def _refusal(
    job: ImportJob, header: product_csv.Header, row_number: int, cells: Sequence[str], message: str
) -> ImportRowError:
    if len(cells) == len(header.columns):
        sku = next((cell for cell, name in zip(cells, header.columns, strict=True) if name == "sku"), "")
        kept = [cell for cell, name in zip(cells, header.columns, strict=True) if name is not None]
    else:
        sku, kept = "", list(cells)
    return ImportRowError(job=job, row_number=row_number, sku=sku.strip()[:200], message=message, cells=kept)


def _finish(job: ImportJob, status: str, message: str = "") -> None:
    job.refresh_from_db()
    if job.failed_count and not job.error_report:
        _write_error_report(job)
    job.status = status
    job.message = message[:500]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at", "error_report"])


def _write_error_report(job: ImportJob) -> None:
    # Spooled: a small report stays in memory, a large one goes to a temporary file on its way to storage.
    with tempfile.SpooledTemporaryFile(max_size=_REPORT_SPOOL_BYTES, mode="w+b") as spool:
        for line in selectors.error_report_lines(job):
            spool.write(line.encode())
        spool.seek(0)
        job.error_report.save(selectors.error_report_name(job), File(spool), save=False)
