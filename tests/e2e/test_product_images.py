"""A merchant adds a product with a photo in the store admin and watches it become the product's image
(a real Celery worker makes the thumbnails; htmx refreshes the status until it is ready); a buyer in a
nearby town then finds it on the marketplace by a misspelt word, nearer sellers first."""

from __future__ import annotations

import re

from storefront.catalog import services as catalog
from storefront.images.models import ProductImage
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD
from tests.storefront.images.image_files import photo_bytes


def in_schema(tenant, work):
    connection.set_tenant(tenant)
    try:
        return work()
    finally:
        connection.set_schema_to_public()


def test_a_merchant_adds_a_product_with_a_photo_and_a_buyer_nearby_finds_it_by_a_misspelt_word(
    platform, page, make_store, media, tmp_path, celery_worker
):
    store = make_store(subdomain="calder", store_name="Calder Pottery")
    far = make_store(subdomain="tyneside", store_name="Tyneside Pots")
    in_schema(store.tenant, lambda: catalog.save_seller_profile(story="", town="Hebden Bridge", postcode=""))
    in_schema(far.tenant, lambda: catalog.save_seller_profile(story="", town="Newcastle", postcode=""))
    in_schema(far.tenant, lambda: catalog.create_product(title="Stoneware jug", sku="J-9", price=1900, status="active"))
    photo = tmp_path / "jug.jpg"
    photo.write_bytes(photo_bytes((1200, 900), colour=(40, 80, 200), orientation=6))
    admin = platform.replace("://localhost", "://calder.localhost") + "/admin/"

    page.goto(f"{admin}login/?next=/admin/catalog/product/add/")
    page.fill("input[name=username]", store.owner.email)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/catalog/product/add/"))
    page.fill("input[name=title]", "Blue stoneware jug")
    page.fill("input[name=sku]", "JUG-1")
    page.fill("input[name=price]", "2400")
    page.select_option("select[name=status]", "active")
    page.set_input_files("input[name=images-0-original]", str(photo))
    page.fill("input[name=images-0-alt_text]", "A blue stoneware jug")

    with celery_worker():
        page.click("input[name=_continue]")
        page.wait_for_url(re.compile(r".*/admin/catalog/product/\d+/change/"))
        # htmx asks for the status every 2 seconds until the worker has made the thumbnails
        page.wait_for_selector("text=Ready (product image)", timeout=30_000)
        preview = page.locator("img.image-preview")
        preview.wait_for()
        assert preview.evaluate("img => img.complete && img.naturalWidth") == 150  # turned upright: 150x200
        assert preview.get_attribute("alt") == "A blue stoneware jug"

        # A buyer in Todmorden (6 km from Hebden Bridge) misspells it; the worker has published both stores
        buyer = page.context.new_page()
        for _ in range(30):
            buyer.goto(f"{platform}/?q=stonewear+jugg&near=Todmorden")
            if buyer.locator("li.listing").count() == 2:
                break
            buyer.wait_for_timeout(500)
        hits = buyer.locator("li.listing")
        assert hits.count() == 2
        assert "Blue stoneware jug" in hits.nth(0).inner_text() and "Calder Pottery" in hits.nth(0).inner_text()
        assert "Stoneware jug" in hits.nth(1).inner_text() and "Tyneside Pots" in hits.nth(1).inner_text()
        assert float(hits.nth(0).locator(".distance").inner_text().split()[0]) < 10
        hits.nth(0).locator("a").first.click()
        buyer.wait_for_url(re.compile(r"http://calder\.localhost:\d+/products/\d+/"))
        assert buyer.locator("h1").inner_text() == "Blue stoneware jug"
        assert buyer.locator("picture img").first.get_attribute("alt") == "A blue stoneware jug"

    connection.set_tenant(store.tenant)
    image = ProductImage.objects.get()
    assert (image.status, image.is_main, image.product.title) == ("ready", True, "Blue stoneware jug")
    connection.set_schema_to_public()
