"""A staff member on a phone keeps the shop's products in the dashboard: changes a price from the list (htmx
swaps the row back), opens the product, drops two photos on it (each with its progress bar; a real worker
prepares them and the list refreshes itself until they are ready), makes the second one the main photo."""

from __future__ import annotations

import base64
import os
import re

from django_tenants.utils import tenant_context

from storefront.catalog import services as catalog
from storefront.catalog.models import Product
from storefront.images.models import ProductImage
from tenants.accounts.services import add_staff_member
from tests.conftest import STRONG_PASSWORD
from tests.storefront.images.image_files import photo_bytes

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def drop_photos(page, target: str, photos: dict[str, bytes]) -> None:
    """Drop files on `target` as a person dragging them from their files would."""
    files = {name: base64.b64encode(content).decode() for name, content in photos.items()}
    page.evaluate(
        """([selector, files]) => {
            const transfer = new DataTransfer();
            for (const [name, data] of Object.entries(files)) {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            }
            const zone = document.querySelector(selector);
            zone.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: transfer }));
            zone.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: transfer }));
        }""",
        [target, files],
    )


def test_a_staff_member_edits_a_price_and_adds_photos_from_a_phone(platform, browser, make_store, media, celery_worker):
    store = make_store(subdomain="hebden", store_name="Hebden Pottery")
    with tenant_context(store.tenant):
        add_staff_member("helper@example.com", STRONG_PASSWORD)
        jug = catalog.create_product(title="Blue jug", sku="JUG-1", price=2400, stock=3, status="active")
    dashboard = platform.replace("://localhost", "://hebden.localhost") + "/dashboard/products/"
    page = browser.new_context(viewport=PHONE).new_page()
    page.set_default_timeout(15_000)

    page.goto(dashboard)
    page.fill("input[name=username]", "helper@example.com")
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/products/$"))

    # A price typed in pounds, saved from the row without leaving the list
    page.fill(f"#price-{jug.pk}", "26.50")
    page.get_by_role("button", name="Save the price of Blue jug").click()
    page.locator(f"#product-{jug.pk} .saved").wait_for()
    assert page.url.endswith("/dashboard/products/")
    assert page.input_value(f"#price-{jug.pk}") == "26.50"
    shot(page, "products-list")

    page.get_by_role("link", name="Blue jug").click()
    page.wait_for_url(re.compile(rf".*/dashboard/products/{jug.pk}/$"))
    assert page.locator("[data-drop-hint]").is_visible()

    with celery_worker():
        drop_photos(
            page,
            "[data-photo-drop]",
            {"front.jpg": photo_bytes((800, 600), colour=(40, 80, 200)), "side.jpg": photo_bytes((600, 800))},
        )
        # Both uploaded (a bar each), then htmx asks for the list until the worker has prepared them
        page.wait_for_function("document.querySelectorAll('#photo-list img').length === 2", timeout=30_000)
        assert page.locator("#photo-list").get_attribute("hx-get") is None
        shot(page, "product-photos")
        page.locator("#photo-list li").nth(1).get_by_role("button", name=re.compile("Make main")).click()
        page.wait_for_function(
            "document.querySelector('#photo-list li:first-child .badge')?.textContent === 'Main photo'"
            " && document.querySelectorAll('#photo-list li').length === 2"
        )

    with tenant_context(store.tenant):
        assert Product.objects.get(pk=jug.pk).price == 2650
        main = ProductImage.objects.get(is_main=True)
        assert (main.width, main.height, main.position) == (600, 800, 0)
