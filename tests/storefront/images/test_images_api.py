"""Product images through the store API: upload, processing (thumbnails, EXIF, labels, main image),
refusals that leave nothing behind, deletion, and other stores kept out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from storefront.catalog import selectors as catalog_selectors
from storefront.catalog.models import Product
from storefront.images import processing
from storefront.images.models import ProductImage
from tenants.db_backend import connection
from tests.storefront.conftest import client_for
from tests.storefront.images.image_files import (
    EXIF_GPS_IFD,
    bomb_png,
    exif_of,
    gif_bytes,
    photo_bytes,
    size_of,
    truncated_jpeg,
    upload,
)


def make_product(api, sku: str = "JUG-1", tags: tuple[str, ...] = ("stoneware",)) -> int:
    response = api.post(
        "/api/v1/products", {"title": "Blue jug", "price": 2400, "sku": sku, "tags": list(tags)}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def post_image(api, product_id: int, content: bytes, name: str = "photo.jpg", **extra):
    return api.post(
        f"/api/v1/products/{product_id}/images", {"file": upload(content, name), **extra}, format="multipart"
    )


def stored_files(media_root: Path) -> list[str]:
    if not media_root.exists():
        return []
    return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())


def wait_until_processed(api, product_id: int, image_id: int, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        image = api.get(f"/api/v1/products/{product_id}/images/{image_id}").json()
        if image["status"] != "processing":
            return image
        time.sleep(0.1)
    raise AssertionError(f"image {image_id} still processing after {seconds}s")


@pytest.mark.usefixtures("committed_tenancy")
def test_a_worker_turns_an_upload_into_upright_thumbnails_without_exif_and_makes_it_the_product_image(
    make_store, media_root, celery_worker
):
    # Given a product and a 1600x1200 photo taken with the camera turned (EXIF orientation 6), with GPS
    store = make_store()
    api = client_for(store, store.token)
    product_id = make_product(api)
    original = photo_bytes((1600, 1200), orientation=6)
    assert EXIF_GPS_IFD in exif_of(original)

    # When it is uploaded and a real worker processes it
    response = post_image(api, product_id, original, alt_text="The jug on a shelf")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "processing"
    with celery_worker():
        image = wait_until_processed(api, product_id, response.json()["id"])

    # Then it is ready, the product's image, upright (portrait) and fitted within each box
    assert (image["status"], image["is_main"], image["message"]) == ("ready", True, "")
    assert (image["width"], image["height"]) == (1200, 1600)
    assert {size: (t["width"], t["height"]) for size, t in image["thumbnails"].items()} == {
        "268x200": (150, 200),
        "536x400": (300, 400),
        "1072x800": (600, 800),
    }
    assert "jpeg" in image["thumbnails"]["268x200"] and "jpeg" not in image["thumbnails"]["536x400"]
    schema = store.tenant.schema_name
    thumbnails = [name for name in stored_files(media_root) if "/images/" in name]
    assert len(thumbnails) == 4 and all(name.startswith(f"{schema}/products/{product_id}/") for name in thumbnails)
    for name in thumbnails:
        content = (media_root / name).read_bytes()
        assert exif_of(content) == {}, f"{name} kept EXIF"
        assert b"LocalBazaarCam" not in content
    small = (media_root / schema / f"products/{product_id}/images/{image['id']}/268x200.webp").read_bytes()
    assert size_of(small) == (150, 200)
    # Labels: the photo's colour, its shape and format, the merchant's tag; exposed for search
    assert {"red", "portrait", "jpeg", "stoneware"} <= set(image["labels"])
    connection.set_tenant(store.tenant)
    assert set(catalog_selectors.product_labels(product_id)) == set(image["labels"])
    connection.set_schema_to_public()
    # And the thumbnail is served on the store's host, the original never
    served = api.get(image["thumbnails"]["268x200"]["webp"])
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    original_name = next(name for name in stored_files(media_root) if "/originals/" in name)
    assert api.get(f"/media/{original_name}").status_code == 404


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (bomb_png(), "huge.png", "too many pixels"),
        (gif_bytes(), "anim.gif", "GIF images are not accepted"),
        (b"%PDF-1.4 not a photo at all", "photo.jpg", "not an image"),
        (truncated_jpeg(), "cut.jpg", "damaged or incomplete"),
        (b"", "empty.jpg", "empty"),
    ],
    ids=["decompression-bomb", "gif", "pdf-named-jpg", "truncated", "empty"],
)
def test_a_file_that_is_not_an_acceptable_image_is_refused_and_nothing_is_stored(
    api, in_store, media_root, content, name, message
):
    product_id = make_product(api)

    response = post_image(api, product_id, content, name)

    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_an_oversized_file_and_too_many_pixels_are_refused_by_the_settings(api, in_store, media_root, settings):
    product_id = make_product(api)
    settings.IMAGE_MAX_BYTES = 2000

    too_big = post_image(api, product_id, photo_bytes((400, 300)))
    settings.IMAGE_MAX_BYTES = 15 * 1024 * 1024
    settings.IMAGE_MAX_PIXELS = 10_000
    too_many = post_image(api, product_id, photo_bytes((200, 100)))

    assert too_big.status_code == 400 and "images may be at most" in too_big.json()["file"][0]
    assert too_many.status_code == 400
    assert "at most 10,000 pixels" in too_many.json()["file"][0]
    assert not ProductImage.objects.exists() and stored_files(media_root) == []


def test_deleting_the_product_image_makes_the_next_ready_one_the_product_image_and_removes_its_files(
    api, in_store, media_root, eager_tasks, django_capture_on_commit_callbacks
):
    product_id = make_product(api)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_image(api, product_id, photo_bytes((640, 480), colour=(40, 80, 200))).json()
    with django_capture_on_commit_callbacks(execute=True):
        second = post_image(api, product_id, photo_bytes((480, 640), colour=(50, 150, 50))).json()
    listed = api.get(f"/api/v1/products/{product_id}/images").json()
    assert [(i["id"], i["status"], i["is_main"], i["position"]) for i in listed] == [
        (first["id"], "ready", True, 0),
        (second["id"], "ready", False, 1),
    ]
    first_files = [name for name in stored_files(media_root) if f"/images/{first['id']}/" in name]
    assert len(first_files) == 4

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/products/{product_id}/images/{first['id']}")

    assert response.status_code == 204
    assert list(ProductImage.objects.values_list("id", "is_main")) == [(second["id"], True)]
    remaining = stored_files(media_root)
    assert not [name for name in remaining if f"/images/{first['id']}/" in name]
    assert len([name for name in remaining if "/originals/" in name]) == 1


def test_processing_that_fails_leaves_a_failed_image_with_its_reason_and_no_files(api, in_store, media_root):
    # Given an accepted upload whose stored file is damaged before the worker reads it
    product_id = make_product(api)
    image_id = post_image(api, product_id, photo_bytes((300, 200))).json()["id"]
    image = ProductImage.objects.get(pk=image_id)
    with default_storage.open(image.original.name, "wb") as stored:
        stored.write(truncated_jpeg())

    # When it is processed (twice: a redelivered task)
    processing.process_image(image_id)
    processing.process_image(image_id)

    # Then it failed with a reason, is nobody's image, and no file of it is left
    image.refresh_from_db()
    assert (image.status, image.is_main, image.thumbnails) == ("failed", False, {})
    assert "damaged or incomplete" in image.message
    assert stored_files(media_root) == []


def test_processing_again_a_ready_image_changes_nothing(api, in_store, media_root):
    product_id = make_product(api)
    image_id = post_image(api, product_id, photo_bytes((300, 200))).json()["id"]
    processing.process_image(image_id)
    before = (ProductImage.objects.get(pk=image_id).processed_at, stored_files(media_root))

    processing.process_image(image_id)

    assert (ProductImage.objects.get(pk=image_id).processed_at, stored_files(media_root)) == before


def test_another_store_cannot_see_or_delete_a_store_s_images(make_store, media_root):
    # Given two stores whose products have the same id, and an image on the first's
    alpha, beta = make_store(), make_store()
    alpha_api, beta_api = client_for(alpha, alpha.token), client_for(beta, beta.token)
    product_id = make_product(alpha_api)
    connection.set_tenant(beta.tenant)
    Product.objects.create(id=product_id, title="Beta's own", price=100, sku="BETA-1")
    connection.set_schema_to_public()
    image_id = post_image(alpha_api, product_id, photo_bytes((300, 200))).json()["id"]
    connection.set_tenant(alpha.tenant)
    processing.process_image(image_id)
    image = ProductImage.objects.get(pk=image_id)
    thumbnail = default_storage.url(image.thumbnails["268x200"]["webp"])
    connection.set_schema_to_public()

    # When the second store asks for it, deletes it, or fetches its files through its own host
    listed = beta_api.get(f"/api/v1/products/{product_id}/images")
    read = beta_api.get(f"/api/v1/products/{product_id}/images/{image_id}")
    deleted = beta_api.delete(f"/api/v1/products/{product_id}/images/{image_id}")
    served = beta_api.get(thumbnail)
    cross_token = client_for(beta, alpha.token).get(f"/api/v1/products/{product_id}/images")

    # Then it sees nothing of it and nothing changed
    assert (listed.status_code, listed.json()) == (200, [])
    assert (read.status_code, deleted.status_code, served.status_code) == (404, 404, 404)
    assert cross_token.status_code == 401
    assert alpha_api.get(thumbnail).status_code == 200
    connection.set_tenant(alpha.tenant)
    assert ProductImage.objects.filter(pk=image_id, status="ready").exists()
    connection.set_tenant(beta.tenant)
    assert not ProductImage.objects.exists()
    assert thumbnail.startswith(f"/media/{alpha.tenant.schema_name}/")
    connection.set_schema_to_public()


def test_a_product_deleted_takes_its_image_files_with_it(
    api, in_store, media_root, eager_tasks, django_capture_on_commit_callbacks
):
    product_id = make_product(api)
    with django_capture_on_commit_callbacks(execute=True):
        post_image(api, product_id, photo_bytes((300, 200)))
    assert len(stored_files(media_root)) == 5

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/products/{product_id}").status_code == 204

    assert not Product.objects.exists() and not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_an_image_s_labels_reach_the_marketplace_listing_when_it_is_ready_and_leave_with_it(
    store, api, media_root, eager_tasks, django_capture_on_commit_callbacks
):
    from storefront.marketplace.models import Listing

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/products",
            {"title": "Red jug", "price": 2400, "sku": "JUG-R", "status": "active", "tags": ["stoneware"]},
            format="json",
        )
    product_id = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        image_id = post_image(api, product_id, photo_bytes((400, 300))).json()["id"]

    connection.set_schema_to_public()
    listing = Listing.objects.get(tenant=store.tenant, product_id=product_id)
    assert {"red", "landscape"} <= set(listing.labels)

    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/v1/products/{product_id}/images/{image_id}")

    connection.set_schema_to_public()
    assert Listing.objects.get(tenant=store.tenant, product_id=product_id).labels == []
