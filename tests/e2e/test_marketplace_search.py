"""A buyer searches the marketplace with a misspelt word near their town and sees, for each result, its
picture, price, seller, distance and stock; ticking "In stock only" narrows the results in place (htmx)
and the URL says so. The page's screenshot is written to docs/screenshots/marketplace-search.png."""

from __future__ import annotations

import io
import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from storefront.catalog import services as catalog
from storefront.images import processing
from storefront.images import services as images
from storefront.publishing.drain import drain_listing_changes
from tenants.db_backend import connection

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "marketplace-search.png"


def pot_photo(glaze: tuple[int, int, int], *, handle: bool) -> SimpleUploadedFile:
    """A photo of a pot on a shelf: a glazed body, a rim and, for a jug, a handle."""
    image = Image.new("RGB", (800, 600), (236, 228, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 470, 800, 600), fill=(170, 130, 95))
    if handle:
        draw.ellipse((470, 230, 590, 400), outline=tuple(c - 40 for c in glaze), width=22)
    draw.ellipse((270, 170, 530, 500), fill=glaze)
    draw.rectangle((300, 140, 500, 200), fill=glaze)
    draw.ellipse((300, 125, 500, 160), fill=tuple(c - 60 for c in glaze))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return SimpleUploadedFile("pot.jpg", buffer.getvalue(), content_type="image/jpeg")


def stock_the_shop(tenant, town: str, products: list[tuple[str, int, int, tuple[int, int, int], bool]]) -> None:
    """The store's seller profile and products, each with its photo processed, published as the drain does."""
    connection.set_tenant(tenant)
    try:
        catalog.save_seller_profile(story="", town=town, postcode="")
        pottery = catalog.create_category(name="Pottery", slug="pottery")
        for title, price, stock, glaze, handle in products:
            product = catalog.create_product(
                title=title, sku=title.upper().replace(" ", "-"), price=price, stock=stock, status="active"
            )
            catalog.update_product(product, category=pottery)
            processing.process_image(images.add_image(product, pot_photo(glaze, handle=handle)).pk)
        drain_listing_changes()
    finally:
        connection.set_schema_to_public()


def test_a_buyer_finds_pots_near_their_town_by_a_misspelt_word_and_keeps_only_those_in_stock(
    platform, page, make_store, media
):
    # Given a potter in Hebden Bridge and one in Newcastle, their photos made into thumbnails and published
    calder = make_store(subdomain="calder", store_name="Calder Pottery")
    tyneside = make_store(subdomain="tyneside", store_name="Tyneside Pots")
    stock_the_shop(
        calder.tenant,
        "Hebden Bridge",
        [
            ("Blue stoneware jug", 2400, 3, (60, 100, 170), True),
            ("Speckled stoneware mug", 1450, 24, (205, 190, 160), True),
        ],
    )
    stock_the_shop(tyneside.tenant, "Newcastle", [("Green stoneware vase", 3200, 0, (80, 130, 90), False)])

    # When a buyer in Todmorden searches for "stonewear"
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"{platform}/")
    page.fill("input[name=q]", "stonewear")
    page.fill("input[name=near]", "Todmorden")
    page.click("button[type=submit]")
    page.wait_for_selector("#results h2:has-text('3 results near Todmorden')")

    # Then each card shows its picture, price, seller, distance and stock, nearest sellers first
    cards = page.locator("li.listing")
    assert cards.count() == 3
    first = cards.nth(0)
    assert "Calder Pottery" in first.inner_text() and "Hebden Bridge" in first.inner_text()
    assert float(first.locator(".distance").inner_text().split()[0]) < 10
    jug = page.locator("li.listing", has_text="Blue stoneware jug")
    assert "£24.00" in jug.inner_text() and jug.locator(".stock").inner_text() == "Only 3 left"
    assert page.locator("li.listing", has_text="Speckled stoneware mug").locator(".stock").inner_text() == "In stock"
    vase = page.locator("li.listing", has_text="Green stoneware vase")
    assert vase.locator(".stock").inner_text() == "Sold out" and "Tyneside Pots" in vase.inner_text()
    assert float(vase.locator(".distance").inner_text().split()[0]) > 100
    pictures = page.locator("li.listing img")
    page.wait_for_function("() => [...document.querySelectorAll('li.listing img')].every(i => i.complete)")
    assert pictures.count() == 3
    assert all(pictures.nth(n).evaluate("img => img.naturalWidth") > 0 for n in range(3))
    assert jug.get_by_role("link", name="Calder Pottery").get_attribute("href").startswith("http://calder.localhost:")
    # (a regenerated picture of the page for the README)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # When they tick "In stock only": the results change in place, and the URL can be shared
    page.check("input[name=in_stock]")
    page.wait_for_selector("#results h2:has-text('2 results near Todmorden')")
    assert "Green stoneware vase" not in page.locator("#results").inner_text()
    assert re.search(r"in_stock=1", page.url) and "near=Todmorden" in page.url
    shared = page.context.new_page()
    shared.goto(page.url)
    assert shared.locator("li.listing").count() == 2 and shared.locator("input[name=in_stock]").is_checked()

    # And the town is remembered for the next visit
    page.goto(f"{platform}/")
    assert page.locator("input[name=near]").input_value() == "Todmorden"
