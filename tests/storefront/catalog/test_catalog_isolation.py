"""Tenant isolation of the catalog's routes: categories, the seller profile, CSV import jobs and their
error reports, export, the admin's import pages and the import task. Another store's token, ids,
slugs, jobs and files must never be reachable; every attempt here must fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context

from onboarding.services import SignupResult
from storefront.catalog import imports
from storefront.catalog.models import Category, ImportJob, Product, SellerProfile
from storefront.catalog.tasks import import_products
from tenants.db_backend import connection
from tests.storefront.conftest import admin_browser, client_for, csv_upload, product_rows

pytestmark = pytest.mark.django_db

ROUTES = [
    ("get", "/api/v1/products/export"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories"),
    ("get", "/api/v1/categories/alpha-only"),
    ("patch", "/api/v1/categories/alpha-only"),
    ("delete", "/api/v1/categories/alpha-only"),
    ("get", "/api/v1/seller-profile"),
    ("put", "/api/v1/seller-profile"),
    ("get", "/api/v1/products/import"),
    ("post", "/api/v1/products/import"),
    ("get", "/api/v1/products/import/1"),
    ("get", "/api/v1/products/import/1/errors.csv"),
]


@pytest.fixture
def stores(make_store, eager_tasks, django_capture_on_commit_callbacks):
    """Alpha has a category, a profile, products and a finished import with refused rows; beta has nothing."""
    alpha = make_store(subdomain="alpha", email="alpha@example.com")
    beta = make_store(subdomain="beta", email="beta@example.com")
    api = client_for(alpha, alpha.token)
    api.post("/api/v1/categories", {"name": "Alpha only"}, format="json")
    api.put("/api/v1/seller-profile", {"story": "Alpha's secret recipe", "town": "A", "postcode": "A1"}, format="json")
    rows = product_rows(3)
    rows[1][1] = "Alpha secret jam"
    rows[2][3] = "-1"
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post("/api/v1/products/import", {"file": csv_upload(rows)}, format="multipart").json()
    assert api.get(f"/api/v1/products/import/{job['id']}").json()["failed"] == 1
    return alpha, beta, job["id"]


def catalog_of(store: SignupResult) -> dict[str, list[dict[str, Any]]]:
    """Every catalog row of a store as stored, timestamps included (a write that changed nothing
    visible still moves `updated_at`)."""
    with tenant_context(store.tenant):
        return {
            "products": list(Product.objects.order_by("pk").values()),
            "categories": list(Category.objects.order_by("pk").values()),
            "profile": list(SellerProfile.objects.values()),
            "imports": list(ImportJob.objects.order_by("pk").values()),
        }


def stored_files(media_root: Path) -> list[str]:
    return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_one_stores_token_is_refused_on_another_store(stores, media_root, method, path):
    alpha, beta, _ = stores
    before = (catalog_of(alpha), catalog_of(beta), stored_files(media_root))

    response = getattr(client_for(beta, alpha.token), method)(path)

    assert response.status_code == 401
    assert b"Alpha" not in response.content
    assert (catalog_of(alpha), catalog_of(beta), stored_files(media_root)) == before


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_callers_are_refused(stores, media_root, method, path):
    alpha, beta, _ = stores
    before = (catalog_of(alpha), catalog_of(beta), stored_files(media_root))

    assert getattr(client_for(alpha), method)(path).status_code == 401
    assert (catalog_of(alpha), catalog_of(beta), stored_files(media_root)) == before


def test_another_stores_import_job_and_error_report_are_not_found(stores):
    _, beta, alpha_job = stores
    api = client_for(beta, beta.token)

    assert api.get(f"/api/v1/products/import/{alpha_job}").status_code == 404
    assert api.get(f"/api/v1/products/import/{alpha_job}/errors.csv").status_code == 404
    assert api.get("/api/v1/products/import").json()["count"] == 0


def test_another_stores_category_slug_is_not_found_and_not_writable(stores):
    alpha, beta, _ = stores
    api = client_for(beta, beta.token)
    before = (catalog_of(alpha), catalog_of(beta))

    assert api.get("/api/v1/categories/alpha-only").status_code == 404
    assert api.patch("/api/v1/categories/alpha-only", {"name": "pwned"}, format="json").status_code == 404
    assert api.delete("/api/v1/categories/alpha-only").status_code == 404
    assert api.get("/api/v1/categories").json()["count"] == 0
    assert (catalog_of(alpha), catalog_of(beta)) == before
    # The same slug in beta is beta's own, and leaves alpha's alone.
    assert api.post("/api/v1/categories", {"name": "Alpha only"}, format="json").status_code == 201
    connection.set_tenant(alpha.tenant)
    assert Category.objects.get(slug="alpha-only").name == "Alpha only"


def test_a_product_in_another_stores_category_cannot_be_made(stores):
    alpha, beta, _ = stores
    before = (catalog_of(alpha), catalog_of(beta))

    response = client_for(beta, beta.token).post(
        "/api/v1/products", {"title": "x", "price": 1, "sku": "X", "category": "alpha-only"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["category"]
    assert (catalog_of(alpha), catalog_of(beta)) == before


def test_another_stores_product_is_neither_changed_nor_copied_by_a_write_to_its_id(stores, media_root):
    # Given alpha's products, and beta (with none) knowing their ids
    alpha, beta, _ = stores
    with tenant_context(alpha.tenant):
        ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    before = (catalog_of(alpha), catalog_of(beta), stored_files(media_root))
    change = {"title": "pwned", "price": 1, "sku": "PWNED", "status": "active"}

    # When beta writes to those ids on its own host, and with alpha's token on alpha's host
    on_beta = client_for(beta, beta.token)
    beta_token_on_alpha = client_for(alpha, beta.token)
    answers = []
    for pk in ids:
        url = f"/api/v1/products/{pk}"
        answers += [on_beta.put(url, change, format="json").status_code]
        answers += [on_beta.patch(url, change, format="json").status_code]
        answers += [on_beta.delete(url).status_code]
        answers += [beta_token_on_alpha.patch(url, change, format="json").status_code]
        answers += [beta_token_on_alpha.delete(url).status_code]

    # Then ids are per store: not found on beta, unauthenticated on alpha; and neither store changed
    assert len(ids) == 2 and answers == [404, 404, 404, 401, 401] * len(ids)
    assert (catalog_of(alpha), catalog_of(beta), stored_files(media_root)) == before


def test_each_store_sees_and_writes_only_its_own_seller_profile(stores):
    alpha, beta, _ = stores
    api = client_for(beta, beta.token)

    assert "secret" not in api.get("/api/v1/seller-profile").json()["story"]
    api.put("/api/v1/seller-profile", {"story": "Beta's", "town": "B", "postcode": "B1"}, format="json")

    connection.set_tenant(alpha.tenant)
    assert SellerProfile.objects.get().story == "Alpha's secret recipe"


def test_an_export_holds_only_the_stores_own_products(stores):
    alpha, beta, _ = stores

    alpha_csv = b"".join(client_for(alpha, alpha.token).get("/api/v1/products/export").streaming_content)
    beta_csv = b"".join(client_for(beta, beta.token).get("/api/v1/products/export").streaming_content)

    assert b"Alpha secret jam" in alpha_csv
    assert beta_csv.decode().splitlines() == ["sku,title,description,price,currency,stock,status,category,tags"]


def test_an_upload_on_one_store_imports_nothing_into_another(stores, django_capture_on_commit_callbacks):
    alpha, beta, _ = stores

    with django_capture_on_commit_callbacks(execute=True):
        client_for(beta, beta.token).post(
            "/api/v1/products/import", {"file": csv_upload(product_rows(2, start=100))}, format="multipart"
        )

    connection.set_tenant(alpha.tenant)
    assert Product.objects.count() == 2
    assert ImportJob.objects.count() == 1
    connection.set_tenant(beta.tenant)
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["SKU-0000100", "SKU-0000101"]


def test_error_reports_are_stored_under_their_own_stores_folder(stores):
    alpha, beta, alpha_job = stores
    connection.set_tenant(alpha.tenant)
    report = ImportJob.objects.get(pk=alpha_job).error_report
    upload = ImportJob.objects.get(pk=alpha_job).file

    assert f"/{alpha.tenant.schema_name}/" in report.path
    connection.set_tenant(beta.tenant)
    assert not default_storage.exists(report.name)
    assert not default_storage.exists(upload.name)


def test_another_stores_import_pages_are_not_in_a_store_admin(stores):
    _, beta, alpha_job = stores
    browser = admin_browser(beta)

    assert browser.get(f"/admin/catalog/importjob/{alpha_job}/progress/").status_code == 404
    assert browser.get(f"/admin/catalog/importjob/{alpha_job}/errors.csv").status_code == 404
    assert b"alpha-only" not in browser.get("/admin/catalog/category/").content
    assert b"Alpha secret jam" not in browser.get("/admin/catalog/product/export.csv").getvalue()


def test_an_import_task_runs_only_in_the_schema_it_was_sent_from(stores):
    alpha, beta, alpha_job = stores
    connection.set_tenant(alpha.tenant)
    job = imports.start_import(csv_upload(product_rows(2, start=500)))
    connection.set_schema_to_public()

    # Sent as if from beta, the task looks for the job in beta's schema, where it isn't.
    with pytest.raises(ImportJob.DoesNotExist):
        import_products.apply(args=[job.pk], headers={"_schema_name": beta.tenant.schema_name}, throw=True)

    connection.set_tenant(alpha.tenant)
    assert ImportJob.objects.get(pk=job.pk).status == "pending"
    assert not Product.objects.filter(sku__startswith="SKU-00005").exists()
