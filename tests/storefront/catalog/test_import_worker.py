"""CSV imports through a real Celery worker (the project's app, the real broker, in a thread of this
process), in the uploading store's schema; and a 50,000-row file in bounded memory."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from storefront.catalog.models import Product
from tenants.db_backend import connection
from tests.storefront.conftest import client_for, csv_upload, product_rows

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


def test_a_worker_imports_an_upload_into_the_uploading_store_only(make_store):
    alpha = make_store(subdomain="alpha", email="alpha@example.com")
    beta = make_store(subdomain="beta", email="beta@example.com")
    alpha_api = client_for(alpha, alpha.token)
    rows = product_rows(40)
    rows[5][3] = "free"

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
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


@pytest.mark.slow
def test_a_50000_row_file_imports_in_bounded_memory_and_again_idempotently(make_store, capsys):
    store = make_store(plan="scale")  # no product limit
    api = client_for(store, store.token)
    rows = product_rows(50_000)
    for n in range(1, 50_001, 1000):  # fifty refused rows along the way
        rows[n][5] = "-1"
    first_job = upload(api, rows)

    # Only the import is measured (the upload above is Django's multipart parsing, not ours).
    tracemalloc.start()
    started = time.perf_counter()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        job = wait_for_import(api, first_job)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        second_job = upload(api, rows)
        started = time.perf_counter()
        again = wait_for_import(api, second_job)
        again_seconds = time.perf_counter() - started

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
    # The file alone is ~3.5 MB and its rows as Python lists ~60 MB: holding either would show here.
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    with capsys.disabled():
        print(
            f"\nimport rows=50000 first_s={seconds:.1f} (under tracemalloc) peak_mib={peak / 2**20:.1f}"
            f" again_s={again_seconds:.1f}"
        )
