"""CSV imports through a real Celery worker (the project's app, the real broker, in a thread of this
process), in the uploading store's schema; a file read a batch at a time; and a 50,000-row file, twice.
(The import's memory and time are figures for `bench/catalog_import.py`, not assertions here.)"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.db import transaction

from storefront.catalog.imports import BATCH_SIZE
from storefront.catalog.models import ImportJob, Product
from tenants.db_backend import connection
from tests.conftest import sessions_waiting_for_my_locks, wait_for
from tests.storefront.conftest import client_for, csv_bytes, csv_upload, product_rows

pytestmark = pytest.mark.usefixtures("committed_tenancy")


def wait_for_import(api, job_id: int, seconds: float = 300) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/products/import/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"import {job_id} still {job['status']} after {seconds}s: {job}")


def upload(api, rows) -> int:
    response = api.post("/api/v1/products/import", {"file": csv_upload(rows)}, format="multipart")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def test_a_worker_imports_an_upload_into_the_uploading_store_only(make_store, celery_worker):
    alpha = make_store(subdomain="alpha", email="alpha@example.com")
    beta = make_store(subdomain="beta", email="beta@example.com")
    alpha_api = client_for(alpha, alpha.token)
    rows = product_rows(40)
    rows[5][3] = "free"

    with celery_worker():
        job = wait_for_import(alpha_api, upload(alpha_api, rows), seconds=60)
        errors = alpha_api.get(job["errors_url"])

    assert (job["status"], job["created"], job["failed"], job["percent"]) == ("succeeded", 39, 1, 100)
    assert errors.status_code == 200
    assert b"Price must be a whole number" in b"".join(errors.streaming_content)
    connection.set_tenant(alpha.tenant)
    assert Product.objects.count() == 39
    connection.set_tenant(beta.tenant)
    assert Product.objects.count() == 0
    connection.set_schema_to_public()


def bytes_read_from(path: str) -> int:
    """How far this process has read the file open at `path` (its descriptor's offset, from /proc)."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == path:
                fields = Path(f"/proc/self/fdinfo/{fd}").read_text().split()
                return int(fields[fields.index("pos:") + 1])
        except OSError:  # a descriptor closed while we looked
            continue
    raise AssertionError(f"{path} is not open")


def test_an_import_reads_its_file_a_batch_at_a_time(make_store, celery_worker):
    # Given an uploaded file of ten batches, and a product of the second batch's being written here,
    # not yet committed, so the worker's import waits in the middle of that batch
    store = make_store(plan="scale")
    api = client_for(store, store.token)
    rows = product_rows(10 * BATCH_SIZE)
    job_id = upload(api, rows)
    connection.set_tenant(store.tenant)
    path = os.path.realpath(ImportJob.objects.get(pk=job_id).file.path)
    held_sku = rows[1 + BATCH_SIZE + BATCH_SIZE // 2][0]

    with celery_worker(shutdown_timeout=30):
        with transaction.atomic():
            Product.objects.create(title="Being written", price=100, sku=held_sku)
            # When the worker has read the second batch and waits to write it
            wait_for(sessions_waiting_for_my_locks, what="the import to wait in its second batch")
            consumed = bytes_read_from(path)
            transaction.set_rollback(True)
        job = wait_for_import(api, job_id)

    # Then it had read the header and two batches of lines, give or take one read-ahead buffer, not the file
    two_batches = len(csv_bytes(rows[: 1 + 2 * BATCH_SIZE]))
    assert two_batches - 1 <= consumed <= two_batches + 64 * 1024 < os.path.getsize(path)
    # And the import still finished, every row once
    assert (job["status"], job["created"], job["failed"]) == ("succeeded", 10 * BATCH_SIZE, 0)
    assert Product.objects.count() == 10 * BATCH_SIZE
    connection.set_schema_to_public()


@pytest.mark.slow
def test_a_50000_row_file_imports_and_again_idempotently(make_store, celery_worker):
    store = make_store(plan="scale")  # no product limit
    api = client_for(store, store.token)
    rows = product_rows(50_000)
    for n in range(1, 50_001, 1000):  # fifty refused rows along the way
        rows[n][5] = "-1"
    first_job = upload(api, rows)

    with celery_worker(shutdown_timeout=30):
        job = wait_for_import(api, first_job)
        again = wait_for_import(api, upload(api, rows))

    assert (job["status"], job["total_rows"], job["created"], job["updated"], job["failed"]) == (
        "succeeded",
        50_000,
        49_950,
        0,
        50,
    )
    assert (again["created"], again["updated"], again["failed"]) == (0, 49_950, 50)
    connection.set_tenant(store.tenant)
    assert Product.objects.count() == 49_950
    connection.set_schema_to_public()
