"""The catalog in the store's admin: product and category lists (search, filters), the product form's
rules, CSV import with its progress bar and refused rows, and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storefront.catalog import imports
from storefront.catalog.models import Category, ImportJob, Product
from tests.storefront.conftest import admin_browser, csv_upload, product_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(in_store):
    bread = Category.objects.create(name="Bread", slug="bread")
    Category.objects.create(name="Rye breads", slug="rye", parent=bread)
    Product.objects.create(sku="BREAD-SOUR", title="Sourdough loaf", price=450, status="active", category=bread)
    Product.objects.create(sku="CAKE-PARKIN", title="Parkin slab", price=380, status="draft")
    return admin_browser(in_store)


def test_the_product_list_shows_prices_as_money_and_searches(browser):
    page = browser.get("/admin/catalog/product/")
    found = browser.get("/admin/catalog/product/?q=parkin")

    assert page.status_code == 200
    assert b"Sourdough loaf" in page.content and b"\xc2\xa34.50" in page.content
    assert b"Import CSV" in page.content and b"Export CSV" in page.content
    assert b"Parkin slab" in found.content and b"Sourdough loaf" not in found.content


def test_the_product_list_filters_by_status_and_category(browser):
    bread = Category.objects.get(slug="bread")

    drafts = browser.get("/admin/catalog/product/?status__exact=draft")
    in_bread = browser.get(f"/admin/catalog/product/?category__id__exact={bread.pk}")

    assert b"Parkin slab" in drafts.content and b"Sourdough loaf" not in drafts.content
    assert b"Sourdough loaf" in in_bread.content and b"Parkin slab" not in in_bread.content


def test_the_category_list_searches(browser):
    page = browser.get("/admin/catalog/category/?q=rye")

    assert page.status_code == 200
    assert b"Rye breads" in page.content


def test_the_product_form_applies_the_catalog_rules(browser):
    form = {"title": "Jam", "sku": "JAM-1", "description": "", "price": "-1", "currency": "gbp", "stock": "0"}
    form.update({"status": "active", "category": "", "tags": "Fruit, fruit"})

    refused = browser.post("/admin/catalog/product/add/", form)
    accepted = browser.post("/admin/catalog/product/add/", {**form, "price": "300"})

    assert refused.status_code == 200 and b"Price cannot be negative." in refused.content
    assert accepted.status_code == 302
    jam = Product.objects.get(sku="JAM-1")
    assert (jam.currency, jam.tags) == ("GBP", ["fruit"])


def test_an_upload_in_the_admin_imports_and_shows_progress_and_refused_rows(
    browser, eager_tasks, django_capture_on_commit_callbacks
):
    rows = product_rows(5)
    rows[2][3] = "-1"

    with django_capture_on_commit_callbacks(execute=True):
        uploaded = browser.post("/admin/catalog/importjob/add/", {"file": csv_upload(rows)})
    job = ImportJob.objects.get()
    page = browser.get(uploaded["Location"])
    progress = browser.get(f"/admin/catalog/importjob/{job.pk}/progress/")
    errors = browser.get(f"/admin/catalog/importjob/{job.pk}/errors.csv")

    assert uploaded.status_code == 302 and uploaded["Location"] == f"/admin/catalog/importjob/{job.pk}/change/"
    assert b'<progress max="100" value="100"' in page.content
    assert b"4 created, 0 updated, 1 refused" in page.content
    assert b"hx-get" not in progress.content  # finished: the page stops polling
    assert b"Price cannot be negative." in b"".join(errors.streaming_content)
    assert Product.objects.filter(sku__startswith="SKU-").count() == 4


def test_a_running_import_polls_for_its_progress(browser):
    rows = product_rows(3)
    uploaded = browser.post("/admin/catalog/importjob/add/", {"file": csv_upload(rows)})  # queued, not run
    job = ImportJob.objects.get()

    progress = browser.get(f"/admin/catalog/importjob/{job.pk}/progress/")

    assert uploaded.status_code == 302
    assert f'hx-get="/admin/catalog/importjob/{job.pk}/progress/"'.encode() in progress.content
    assert b'hx-trigger="every 1s"' in progress.content


def test_deleting_a_finished_import_deletes_its_files_and_a_running_one_stays(
    browser, in_store, eager_tasks, django_capture_on_commit_callbacks
):
    rows = product_rows(2)
    rows[1][3] = "-1"
    with django_capture_on_commit_callbacks(execute=True):
        finished = imports.start_import(csv_upload(rows))
    running = imports.start_import(csv_upload(product_rows(1)))  # queued, never run here
    finished.refresh_from_db()
    files = [Path(finished.file.path), Path(finished.error_report.path)]

    refused = browser.post(f"/admin/catalog/importjob/{running.pk}/delete/", {"post": "yes"})
    with django_capture_on_commit_callbacks(execute=True):
        deleted = browser.post(f"/admin/catalog/importjob/{finished.pk}/delete/", {"post": "yes"})

    assert refused.status_code == 403
    assert deleted.status_code == 302
    assert list(ImportJob.objects.values_list("pk", flat=True)) == [running.pk]
    assert not any(path.exists() for path in files)


def test_an_unusable_upload_is_refused_on_the_form(browser):
    page = browser.post("/admin/catalog/importjob/add/", {"file": SimpleUploadedFile("x.csv", b"name,cost\n")})

    assert page.status_code == 200
    assert b"Unknown column(s)" in page.content
    assert not ImportJob.objects.exists()


def test_the_admin_exports_the_catalog(browser):
    response = browser.get("/admin/catalog/product/export.csv")

    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == "sku,title,description,price,currency,stock,status,category,tags"
    assert "BREAD-SOUR,Sourdough loaf,,450,GBP,0,active,bread," in body
