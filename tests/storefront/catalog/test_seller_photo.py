"""The seller's photo and CSV imports are stored under names the server chooses, never the client's:
a file named `x.html` (the stored-XSS report) can't reach storage or come back from the store's host as
a page, whether it came through the API or the admin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storefront.catalog.models import ImportJob, SellerProfile
from tests.storefront.conftest import admin_browser, csv_upload, product_rows
from tests.storefront.images.image_files import EXIF_GPS_IFD, exif_of, photo_bytes

pytestmark = pytest.mark.django_db

FIELDS = {"story": "Two sisters baking since 1998.", "town": "Todmorden", "postcode": "OL14 5AA"}
# A JPEG's first bytes, then a page: what a check of the signature alone took for a photo.
JPEG_MAGIC_AND_HTML = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<html><script>alert(document.domain)</script></html>"
SERVER_PHOTO_NAME = re.compile(r"^seller/[0-9a-f]{32}\.(jpg|png|webp)$")


def put_photo(api, content: bytes, name: str, content_type: str = "text/html"):
    photo = SimpleUploadedFile(name, content, content_type=content_type)
    return api.put("/api/v1/seller-profile", {**FIELDS, "photo": photo}, format="multipart")


def stored_files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def test_a_page_that_starts_like_a_jpeg_is_refused_as_a_photo_and_nothing_is_stored(api, in_store, media_root):
    # When the attack of the report is sent: `x.html`, a JPEG signature, then HTML
    response = put_photo(api, JPEG_MAGIC_AND_HTML, "x.html")

    # Then it is refused, and neither a profile nor a file was made
    assert response.status_code == 400
    assert "photo" in response.json()
    assert not SellerProfile.objects.exists()
    assert stored_files(media_root) == []


def test_a_real_photo_named_x_html_is_stored_under_a_server_name_and_served_only_as_an_image(api, in_store, media_root):
    # Given a real JPEG carrying the camera's GPS position, named like a page
    content = photo_bytes((400, 300))
    assert EXIF_GPS_IFD in exif_of(content)

    # When it is the seller's photo
    response = put_photo(api, content, "x.html")

    # Then it is kept under a name of the server's with the extension of what it really is
    assert response.status_code == 200, response.json()
    name = SellerProfile.objects.get().photo.name
    assert SERVER_PHOTO_NAME.match(name), name
    assert name.endswith(".jpg")
    assert not [path for path in stored_files(media_root) if "html" in path.name]
    # re-encoded from its pixels: the seller's location is not published with it
    kept = (media_root / in_store.tenant.schema_name / name).read_bytes()
    assert EXIF_GPS_IFD not in exif_of(kept) and b"LocalBazaarCam" not in kept
    # and the store's host serves it as a JPEG a browser can't take for anything else
    url = response.json()["photo"]
    assert url.endswith(name)
    served = api.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in served["Content-Security-Policy"]
    assert "sandbox" in served["Content-Security-Policy"]
    assert served["Content-Disposition"] == "inline"


@pytest.mark.parametrize("planted", ["x.html", "x.svg", "x.jpg.html", "photo"])
def test_an_old_seller_file_under_a_name_the_server_would_not_make_is_not_served(api, in_store, media_root, planted):
    # Given a file stored before names were the server's: under `seller/<hex>/` with the client's name
    schema = in_store.tenant.schema_name
    folder = media_root / schema / "seller" / ("ab" * 16)
    folder.mkdir(parents=True)
    (folder / planted).write_bytes(JPEG_MAGIC_AND_HTML)

    # When it is asked for on the store's host
    response = api.get(f"/media/{schema}/seller/{'ab' * 16}/{planted}")

    # Then it is not there
    assert response.status_code == 404


def test_an_old_seller_photo_with_an_image_name_is_still_served_as_an_image(api, in_store, media_root):
    # Names of the old scheme that end like an image were accepted as photos: shown, but only ever as images.
    schema = in_store.tenant.schema_name
    folder = media_root / schema / "seller" / ("cd" * 16)
    folder.mkdir(parents=True)
    (folder / "Me_at_the_market.JPG").write_bytes(JPEG_MAGIC_AND_HTML)

    response = api.get(f"/media/{schema}/seller/{'cd' * 16}/Me_at_the_market.JPG")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_admin_stores_the_photo_under_a_server_name_too(in_store, media_root):
    browser = admin_browser(in_store)
    page = browser.post(
        "/admin/catalog/sellerprofile/add/",
        {**FIELDS, "photo": SimpleUploadedFile("x.html", photo_bytes((200, 200), fmt="PNG"), "text/html")},
    )
    refused = browser.post(
        "/admin/catalog/sellerprofile/1/change/",
        {**FIELDS, "photo": SimpleUploadedFile("y.html", JPEG_MAGIC_AND_HTML, "text/html")},
    )

    assert page.status_code == 302
    name = SellerProfile.objects.get().photo.name
    assert SERVER_PHOTO_NAME.match(name) and name.endswith(".png"), name
    assert refused.status_code == 200 and b"not an image" in refused.content
    assert SellerProfile.objects.get().photo.name == name
    assert not [path for path in stored_files(media_root) if "html" in path.name]


def test_a_csv_import_is_stored_under_a_server_name_and_never_served_as_media(
    api, in_store, media_root, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a CSV with one bad row, uploaded under a page's name
    rows = [*product_rows(2), ["BAD", "Bad price", "", "-1", "GBP", "1", "active", "", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/products/import", {"file": csv_upload(rows, name="evil.html")}, format="multipart")
    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get()
    schema = in_store.tenant.schema_name

    # Then the name shown is the client's, the names stored are the server's, as CSV
    assert job.source_name == "evil.html"
    for stored in (job.file.name, job.error_report.name):
        assert re.fullmatch(r"catalog/imports/[0-9a-f]{32}\.csv", stored), stored
        # and the store's host never serves them
        assert api.get(f"/media/{schema}/{stored}").status_code == 404
    assert not [path for path in stored_files(media_root) if "html" in path.name]
    # The refused rows come back as a CSV download, never as something to show
    report = api.get(f"/api/v1/products/import/{job.pk}/errors.csv")
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv"
    assert report["Content-Disposition"].startswith("attachment;")
    assert report["X-Content-Type-Options"] == "nosniff"
