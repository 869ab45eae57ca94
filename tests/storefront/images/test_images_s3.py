"""Images on S3 (moto's server mode, real boto3): direct uploads with a presigned POST, keys namespaced
by store, server-side checks of what was uploaded, and Rekognition labels."""

from __future__ import annotations

import boto3
import requests
from django.core.files.storage import default_storage

from storefront.catalog.models import Product
from storefront.images import labelers, processing
from storefront.images.models import ProductImage
from tenants.db_backend import connection
from tests.storefront.conftest import client_for
from tests.storefront.images.conftest import REGION, keys
from tests.storefront.images.image_files import bomb_png, photo_bytes
from tests.storefront.images.test_images_api import make_product, post_image


def presign(api, product_id: int, content_type: str = "image/jpeg"):
    return api.post(f"/api/v1/products/{product_id}/images/presign", {"content_type": content_type}, format="json")


def send(post: dict, content: bytes, content_type: str = "image/jpeg") -> requests.Response:
    """What a browser does with the presigned form: POST the fields, then the file, straight to S3."""
    return requests.post(
        post["url"], data=post["fields"], files={"file": ("photo.jpg", content, content_type)}, timeout=10
    )


def test_a_photo_uploaded_straight_to_s3_is_checked_registered_and_processed_under_the_store_s_prefix(
    api, store, in_store, s3_media
):
    # Given a product and a presigned POST for it
    product_id = make_product(api)
    schema = store.tenant.schema_name
    post = presign(api, product_id).json()
    assert post["key"].startswith(f"{schema}/products/{product_id}/uploads/")
    assert post["fields"]["Content-Type"] == "image/jpeg" and "policy" in post["fields"]

    # When the browser uploads the photo to S3 and tells the store it is done
    # S3 answers a form POST with 204 No Content: the presigned form sets no success_action_status.
    assert send(post, photo_bytes((1600, 1200))).status_code == 204
    completed = api.post(f"/api/v1/products/{product_id}/images/complete", {"key": post["key"]}, format="json")
    again = api.post(f"/api/v1/products/{product_id}/images/complete", {"key": post["key"]}, format="json")
    processing.process_image(completed.json()["id"])

    # Then it is registered once, processed into thumbnails in S3, every key in the store's prefix
    assert completed.status_code == 202, completed.json()
    assert again.json()["id"] == completed.json()["id"]
    image = ProductImage.objects.get()
    assert (image.status, image.is_main, image.width, image.height) == ("ready", True, 1600, 1200)
    stored = keys(s3_media)
    assert len(stored) == 5 and all(key.startswith(f"{schema}/products/{product_id}/") for key in stored)
    assert f"{schema}/{image.thumbnails['268x200']['webp']}" in stored
    # and its thumbnail URL is the bucket's (presigned GET), which serves it
    url = api.get(f"/api/v1/products/{product_id}/images/{image.pk}").json()["thumbnails"]["268x200"]["webp"]
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content[8:12] == b"WEBP"


def test_a_key_outside_the_store_s_or_the_product_s_upload_prefix_is_refused(make_store, s3_media):
    alpha, beta = make_store(), make_store()
    alpha_api, beta_api = client_for(alpha, alpha.token), client_for(beta, beta.token)
    product_id = make_product(alpha_api)
    other_product = make_product(alpha_api, sku="JUG-2")
    connection.set_tenant(beta.tenant)  # the second store has a product with the same id
    Product.objects.create(id=product_id, title="Beta's own", price=100, sku="BETA-1")
    connection.set_schema_to_public()
    post = presign(alpha_api, product_id).json()
    assert send(post, photo_bytes((300, 200))).status_code == 204

    attempts = {
        "other store": (beta_api, product_id, post["key"]),
        "other product": (alpha_api, other_product, post["key"]),
        "escaping": (alpha_api, product_id, post["key"].replace("/uploads/", "/uploads/../originals/")),
        "other object": (alpha_api, product_id, f"{alpha.tenant.schema_name}/catalog/imports/x.csv"),
    }
    for what, (api, pid, key) in attempts.items():
        response = api.post(f"/api/v1/products/{pid}/images/complete", {"key": key}, format="json")
        assert response.status_code == 400, what
        assert "not an upload for this product" in response.json()["key"][0], what

    connection.set_tenant(alpha.tenant)
    assert not ProductImage.objects.exists()
    connection.set_tenant(beta.tenant)
    assert not ProductImage.objects.exists()
    connection.set_schema_to_public()
    assert keys(s3_media) == [post["key"]]


def test_a_direct_upload_that_is_not_an_acceptable_image_is_refused_and_deleted_from_the_bucket(
    api, in_store, s3_media, settings
):
    product_id = make_product(api)
    bomb = presign(api, product_id, "image/png").json()
    assert send(bomb, bomb_png(), "image/png").status_code == 204
    big = presign(api, product_id).json()
    assert send(big, photo_bytes((800, 600))).status_code == 204
    assert keys(s3_media) == sorted([bomb["key"], big["key"]])  # both in the bucket before the checks
    settings.IMAGE_MAX_BYTES = 1000

    refused_bomb = api.post(f"/api/v1/products/{product_id}/images/complete", {"key": bomb["key"]}, format="json")
    refused_big = api.post(f"/api/v1/products/{product_id}/images/complete", {"key": big["key"]}, format="json")

    assert refused_bomb.status_code == 400 and "too many pixels" in refused_bomb.json()["file"][0]
    assert refused_big.status_code == 400 and "images may be at most" in refused_big.json()["file"][0]
    assert not ProductImage.objects.exists()
    assert keys(s3_media) == []


def test_uploads_through_the_web_server_land_in_the_store_s_prefix_too(api, store, in_store, s3_media):
    product_id = make_product(api)

    image_id = post_image(api, product_id, photo_bytes((300, 200))).json()["id"]
    processing.process_image(image_id)

    assert ProductImage.objects.get(pk=image_id).status == "ready"
    assert {key.split("/", 1)[0] for key in keys(s3_media)} == {store.tenant.schema_name}
    assert default_storage.exists(ProductImage.objects.get(pk=image_id).original.name)


def test_presign_is_refused_without_s3_storage(api, in_store):
    product_id = make_product(api)

    response = presign(api, product_id)

    assert response.status_code == 409 and "MEDIA_STORAGE=s3" in response.json()["detail"]


def test_the_rekognition_labeler_asks_detect_labels_and_keeps_the_local_labels(aws_server, aws_credentials, settings):
    # moto's DetectLabels answers a fixed set of labels whatever the photo: enough to test the exchange.
    settings.REKOGNITION_ENDPOINT_URL = aws_server
    settings.REKOGNITION_REGION = REGION
    settings.REKOGNITION_MIN_CONFIDENCE = 50
    settings.IMAGE_LABELER = "rekognition"
    from PIL import Image

    subject = labelers.LabelSubject(
        image=Image.new("RGB", (400, 300), (40, 80, 200)), format="jpeg", width=400, height=300, tags=["jug"]
    )

    labels = labelers.get_labeler().labels(subject)

    expected = boto3.client("rekognition", endpoint_url=aws_server, region_name=REGION).detect_labels(
        Image={"Bytes": b"x"}, MinConfidence=50
    )
    names = [label["Name"].lower() for label in expected["Labels"]]
    assert names and labels[: len(names)] == names
    assert {"blue", "jug", "landscape", "jpeg"} <= set(labels)


def test_the_rekognition_labeler_falls_back_to_local_labels_when_the_service_is_unreachable(settings, aws_credentials):
    settings.REKOGNITION_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.REKOGNITION_REGION = REGION
    from botocore.config import Config
    from PIL import Image

    client = boto3.client(
        "rekognition",
        endpoint_url=settings.REKOGNITION_ENDPOINT_URL,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    subject = labelers.LabelSubject(
        image=Image.new("RGB", (300, 300), (240, 240, 240)), format="png", width=300, height=300
    )

    assert labelers.RekognitionLabeler(client=client).labels(subject) == ["white", "square", "png"]
