"""Fixtures of the catalog tests: a store with its API client, media files in a temporary folder,
Celery tasks run in-process for tests that don't start a worker, and CSV files to upload."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from config.celery import app
from onboarding.services import SignupResult
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD, store_api, store_host


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Iterator[Any]:
    """Uploads go to a folder of the test's own (still namespaced by schema below it)."""
    storage = storages["default"]
    # django-tenants' storage caches MEDIA_ROOT on first use and misses setting changes.
    storage.__dict__.pop("relative_media_root", None)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield tmp_path / "media"
    storage.__dict__.pop("relative_media_root", None)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks queued after commit run at once, in this process, in the sender's schema."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def store(make_store: Any) -> SignupResult:
    return make_store()


class SchemaKeeping:
    """Requests leave the test in the schema it was in (the routing middleware ends every request in
    `public`), so ORM assertions after a request still see the store."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        tenant = getattr(connection, "tenant", None)
        try:
            return super().request(*args, **kwargs)
        finally:
            if tenant is not None and connection.schema_name != tenant.schema_name:
                connection.set_tenant(tenant)


class SchemaKeepingClient(SchemaKeeping, APIClient):
    pass


class SchemaKeepingBrowser(SchemaKeeping, Client):
    pass


def client_for(store: SignupResult, token: str | None = None) -> APIClient:
    plain = store_api(store.tenant.slug, token)
    client = SchemaKeepingClient(HTTP_HOST=plain.defaults["HTTP_HOST"])
    client._credentials = plain._credentials  # type: ignore[attr-defined]
    return client


@pytest.fixture
def api(store: SignupResult) -> APIClient:
    return client_for(store, store.token)


def admin_browser(store: SignupResult) -> Client:
    """A browser logged in to the store's admin as its owner."""
    browser = SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))
    response = browser.post("/admin/login/?next=/admin/", {"username": store.owner.email, "password": STRONG_PASSWORD})
    assert response.status_code == 302, "the owner could not log in to the store admin"
    return browser


@pytest.fixture
def in_store(store: SignupResult) -> Iterator[SignupResult]:
    """The test's own ORM calls run in the store's schema."""
    connection.set_tenant(store.tenant)
    yield store
    connection.set_schema_to_public()


def csv_bytes(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def csv_upload(rows: list[list[Any]], name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_bytes(rows), content_type="text/csv")


def product_rows(count: int, *, start: int = 0, price: int = 100) -> list[list[Any]]:
    """A header and `count` valid products, SKU-0000000 onwards."""
    rows: list[list[Any]] = [
        ["sku", "title", "description", "price", "currency", "stock", "status", "category", "tags"]
    ]
    for n in range(start, start + count):
        rows.append([f"SKU-{n:07d}", f"Product {n}", "Made nearby", price + n % 7, "GBP", n % 50, "active", "", ""])
    return rows
