"""Product images are stored under names the server chooses, with the extension of what the bytes really
are; the store's host serves only names the server makes, only as images, with headers that keep a
browser from running anything; and S3 keeps the same rule for the objects it serves."""

from __future__ import annotations

import base64
import json
import re

import pytest

from storefront.images import processing
from storefront.images.models import ProductImage
from tests.storefront.conftest import csv_upload, product_rows
from tests.storefront.images.conftest import keys
from tests.storefront.images.image_files import photo_bytes, upload
from tests.storefront.images.test_images_api import make_product, post_image, stored_files
from tests.storefront.images.test_images_s3 import presign, send

pytestmark = pytest.mark.django_db

PAGE = b"<html><script>alert(document.domain)</script></html>"


@pytest.mark.parametrize("name", ["evil.svg", "x.html"])
def test_a_real_png_named_like_a_page_is_stored_as_a_png_under_a_server_name(api, in_store, media_root, name):
    product_id = make_product(api)

    response = post_image(api, product_id, photo_bytes((300, 200), fmt="PNG"), name=name)

    assert response.status_code == 202, response.json()
    original = ProductImage.objects.get().original.name
    assert re.fullmatch(rf"products/{product_id}/originals/[0-9a-f]{{32}}\.png", original), original
    assert not [path for path in stored_files(media_root) if name.split(".")[-1] in path]


def test_a_thumbnail_is_served_as_its_image_type_with_headers_that_run_nothing(
    api, in_store, media_root, django_capture_on_commit_callbacks
):
    product_id = make_product(api)
    image_id = post_image(api, product_id, photo_bytes((300, 200))).json()["id"]
    image = processing.process_image(image_id)
    assert image is not None and image.status == "ready"

    urls = api.get(f"/api/v1/products/{product_id}/images/{image_id}").json()["thumbnails"]["268x200"]
    for kind, content_type in (("webp", "image/webp"), ("jpeg", "image/jpeg")):
        served = api.get(urls[kind])
        assert served.status_code == 200, kind
        assert served["Content-Type"] == content_type
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert served["Content-Disposition"] == "inline"


@pytest.mark.parametrize(
    "planted",
    [
        "products/1/images/1/268x200.html",
        "products/1/images/1/268x200.svg",
        "products/1/images/1/evil.webp",
        "products/1/originals/" + "ab" * 16 + ".jpg",
        "products/1/uploads/" + "ab" * 16 + ".jpg",
        "seller/" + "ab" * 16 + ".html",
        "seller/" + "ab" * 16 + ".svg",
        "catalog/imports/" + "ab" * 16 + ".csv",
        "imports/incoming/spring.csv",
    ],
)
def test_a_file_under_a_name_the_server_never_serves_is_not_found(api, in_store, media_root, planted):
    # Given a page planted in the store's media folder under a name the server would not serve
    path = media_root / in_store.tenant.schema_name / planted
    path.parent.mkdir(parents=True)
    path.write_bytes(PAGE)

    # When it is asked for on the store's host, then it is not there
    assert api.get(f"/media/{in_store.tenant.schema_name}/{planted}").status_code == 404


def test_a_direct_upload_whose_bytes_are_not_the_announced_type_is_refused_and_deleted(api, in_store, s3_media):
    # Given a presigned POST for a PNG, and a JPEG sent under it
    product_id = make_product(api)
    post = presign(api, product_id, "image/png").json()
    assert post["key"].endswith(".png") and post["fields"]["Content-Type"] == "image/png"
    send(post, photo_bytes((300, 200)), "image/png")

    # When the browser says it is done
    response = api.post(f"/api/v1/products/{product_id}/images/complete", {"key": post["key"]}, format="json")

    # Then it is refused: a stored file's extension always says what it really is
    assert response.status_code == 400
    assert "JPEG" in response.json()["file"][0]
    assert not ProductImage.objects.exists()
    assert keys(s3_media) == []


def test_a_direct_upload_s_key_and_type_are_fixed_by_the_server_in_the_signed_policy(api, in_store, s3_media):
    # (moto does not enforce POST policies; S3 does. What is checked here is what S3 will enforce.)
    product_id = make_product(api)

    post = presign(api, product_id, "image/webp").json()

    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    assert re.fullmatch(r".+/products/\d+/uploads/[0-9a-f]{32}\.webp", post["key"])
    assert {"key": post["key"]} in policy["conditions"]
    assert {"Content-Type": "image/webp"} in policy["conditions"]
    assert not [c for c in policy["conditions"] if isinstance(c, list) and c[0] == "starts-with"]


def test_objects_the_store_writes_to_s3_get_their_type_from_the_server_made_name_not_the_client(
    api, store, in_store, s3_media
):
    # Given a PNG product image and a JPEG seller photo, both sent as `x.html` of type text/html
    product_id = make_product(api)
    image = api.post(
        f"/api/v1/products/{product_id}/images",
        {"file": upload(photo_bytes((300, 200), fmt="PNG"), "x.html", "text/html")},
        format="multipart",
    )
    processing.process_image(image.json()["id"])
    photo = api.put(
        "/api/v1/seller-profile",
        {
            "story": "Hi",
            "town": "Todmorden",
            "postcode": "OL14",
            "photo": upload(photo_bytes((200, 200)), "x.html", "text/html"),
        },
        format="multipart",
    )
    assert (image.status_code, photo.status_code) == (202, 200)
    schema = store.tenant.schema_name

    # When the bucket is asked what each object is
    types = {key: s3_media.Object(key).content_type for key in keys(s3_media)}

    # Then every object is the image its name says, in the store's prefix; none of them is a page
    assert len(types) == 6, types
    for key, content_type in types.items():
        assert key.startswith(f"{schema}/products/{product_id}/") or key.startswith(f"{schema}/seller/"), key
        expected = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}[key.rsplit(".", 1)[1]]
        assert content_type == expected, key


def test_a_csv_import_on_s3_is_stored_as_a_download_under_a_server_name(api, store, in_store, s3_media):
    response = api.post(
        "/api/v1/products/import", {"file": csv_upload(product_rows(1), name="x.html")}, format="multipart"
    )

    assert response.status_code == 202, response.json()
    (key,) = keys(s3_media)
    assert re.fullmatch(rf"{store.tenant.schema_name}/catalog/imports/[0-9a-f]{{32}}\.csv", key), key
    stored = s3_media.Object(key)
    assert (stored.content_type, stored.content_disposition) == ("application/octet-stream", "attachment")
