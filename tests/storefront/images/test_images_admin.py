"""Product images in the store admin (the inline on the product page, its processing state) and the
template include the buyer pages use to show a product's image."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from storefront.catalog.models import Product
from storefront.images import processing, selectors
from storefront.images.models import ProductImage
from tests.storefront.conftest import admin_browser
from tests.storefront.images.image_files import gif_bytes, photo_bytes, upload
from tests.storefront.images.test_images_api import stored_files

PRODUCT_FORM = {
    "title": "Blue jug",
    "sku": "JUG-1",
    "description": "",
    "price": "2400",
    "currency": "GBP",
    "stock": "3",
    "status": "active",
    "category": "",
    "tags": "stoneware",
}


def with_image(content: bytes, name: str = "jug.jpg", **fields: str) -> dict:
    return {
        **PRODUCT_FORM,
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-original": upload(content, name),
        "images-0-alt_text": fields.get("alt_text", "A blue jug"),
        "images-0-position": "0",
    }


def test_a_merchant_adds_a_product_with_an_image_and_sees_it_become_ready(
    in_store, media_root, eager_tasks, django_capture_on_commit_callbacks
):
    browser = admin_browser(in_store)

    with django_capture_on_commit_callbacks(execute=True):
        added = browser.post("/admin/catalog/product/add/", with_image(photo_bytes((800, 600), colour=(40, 80, 200))))

    assert added.status_code == 302
    image = ProductImage.objects.get()
    assert (image.product.sku, image.status, image.is_main, image.alt_text) == ("JUG-1", "ready", True, "A blue jug")
    page = browser.get(f"/admin/catalog/product/{image.product_id}/change/").content.decode()
    assert "Ready (product image)" in page and image.thumbnails["268x200"]["webp"] in page
    assert "blue" in page  # its labels
    state = browser.get(f"/admin/images/productimage/{image.pk}/state/")
    assert state.status_code == 200 and b"hx-get" not in state.content


def test_a_processing_image_s_state_asks_again_until_it_is_ready(in_store, media_root):
    browser = admin_browser(in_store)
    browser.post("/admin/catalog/product/add/", with_image(photo_bytes((300, 200))))
    image = ProductImage.objects.get()

    processing_state = browser.get(f"/admin/images/productimage/{image.pk}/state/").content.decode()
    processing.process_image(image.pk)
    ready_state = browser.get(f"/admin/images/productimage/{image.pk}/state/").content.decode()

    assert "Processing" in processing_state and "every 2s" in processing_state
    assert "Ready" in ready_state and "every 2s" not in ready_state and "<img" in ready_state


def test_a_refused_image_is_shown_on_the_form_and_nothing_is_saved(in_store, media_root):
    browser = admin_browser(in_store)

    response = browser.post("/admin/catalog/product/add/", with_image(gif_bytes(), "anim.gif"))

    assert response.status_code == 200
    assert b"GIF images are not accepted" in response.content
    assert not Product.objects.exists() and not ProductImage.objects.exists()
    assert stored_files(media_root) == []


@pytest.fixture
def products_with_images(in_store, media_root):
    from storefront.images import services

    products = []
    for n in range(3):
        product = Product.objects.create(title=f"Jug {n}", price=100, sku=f"JUG-{n}", status="active")
        image = services.add_image(product, upload(photo_bytes((400, 300))), alt_text=f"Jug number {n}")
        processing.process_image(image.pk)
        products.append(product)
    products.append(Product.objects.create(title="No photo", price=100, sku="BARE", status="active"))
    return products


def test_the_include_shows_the_main_image_as_webp_with_a_jpeg_fallback_or_a_placeholder(products_with_images):
    jug, bare = products_with_images[0], products_with_images[-1]

    shown = render_to_string("shop/_product_image.html", {"product": jug, "size": "268x200"})
    placeholder = render_to_string("shop/_product_image.html", {"product": bare})

    image = ProductImage.objects.get(product=jug)
    assert '<source type="image/webp"' in shown
    assert image.thumbnails["268x200"]["webp"] in shown and image.thumbnails["536x400"]["webp"] in shown
    assert image.thumbnails["268x200"]["jpeg"] in shown and 'alt="Jug number 0"' in shown
    assert 'width="267" height="200"' in shown
    assert "product-image--placeholder" in placeholder and "<img" not in placeholder


def test_a_list_of_products_shows_their_images_in_two_queries(products_with_images, django_assert_num_queries):
    with django_assert_num_queries(2):
        products = list(selectors.with_main_image(Product.objects.order_by("sku")))
        html = "".join(render_to_string("shop/_product_image.html", {"product": p, "size": "medium"}) for p in products)

    assert html.count("<picture") == 3 and html.count("placeholder") == 1


def test_moving_an_image_first_in_the_admin_makes_it_the_product_image(products_with_images, in_store):
    jug = products_with_images[0]
    first = ProductImage.objects.get(product=jug)
    from storefront.images import services

    second = services.add_image(jug, upload(photo_bytes((300, 400))), alt_text="Side view")
    processing.process_image(second.pk)
    browser = admin_browser(in_store)
    form = {
        **PRODUCT_FORM,
        "title": jug.title,
        "sku": jug.sku,
        "price": "100",
        "images-TOTAL_FORMS": "2",
        "images-INITIAL_FORMS": "2",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-id": str(first.pk),
        "images-0-product": str(jug.pk),
        "images-0-alt_text": first.alt_text,
        "images-0-position": "5",
        "images-1-id": str(second.pk),
        "images-1-product": str(jug.pk),
        "images-1-alt_text": "Side view",
        "images-1-position": "0",
    }

    response = browser.post(f"/admin/catalog/product/{jug.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(ProductImage.objects.filter(product=jug).values_list("pk", "is_main").order_by("position")) == [
        (second.pk, True),
        (first.pk, False),
    ]


def test_a_product_page_with_images_shows_form_errors_instead_of_failing(products_with_images, in_store):
    jug = products_with_images[0]
    image = ProductImage.objects.get(product=jug)
    browser = admin_browser(in_store)
    form = {
        **PRODUCT_FORM,
        "title": jug.title,
        "sku": jug.sku,
        "price": "-5",  # refused
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "1",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "images-0-id": str(image.pk),
        "images-0-product": str(jug.pk),
        "images-0-alt_text": image.alt_text,
        "images-0-position": "0",
    }

    response = browser.post(f"/admin/catalog/product/{jug.pk}/change/", form)
    refused_add = browser.post("/admin/catalog/product/add/", {**with_image(photo_bytes((300, 200))), "price": "-5"})

    assert response.status_code == 200 and b"errornote" in response.content
    assert f"image-state-{image.pk}".encode() in response.content
    assert refused_add.status_code == 200 and b"errornote" in refused_add.content
    assert ProductImage.objects.count() == 3  # nothing half-made from the refused add
