"""A buyer's whole journey in a real browser, across the root domain and a store's host: they sign up, verify
their address from the mailed link and set their town; find a loaf from the marketplace by a misspelt word
near that town; sign in on the store (the root's handoff) and ask the seller about it with a photo; the
merchant answers from the store admin and the buyer reads the answer; the buyer orders it for pickup and
finds the order under "Your orders" on the root; and the merchant sees the buyer's views of the product in
the store's analytics. Screenshots of both sides of the conversation are written to docs/screenshots/."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone
from PIL import Image, ImageDraw

from storefront.analytics import services as analytics
from storefront.publishing.drain import drain_listing_changes
from storefront.publishing.order_history import drain_order_changes
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD, store_api, wait_for

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
BUYER_EMAIL = "ada@example.com"
OWNER_EMAIL = "rosa@todmorden-bakery.example.com"
QUESTION = "Is the sourdough loaf still warm if I come at five? This is the tin I'd like it to fit."
ANSWER = "Yes: it comes out at half four, and it fits that tin."


def in_store(tenant: Any, work: Any) -> Any:
    """Run `work()` in the store's schema, as its Celery task would, and come back to `public`."""
    connection.set_tenant(tenant)
    try:
        return work()
    finally:
        connection.set_schema_to_public()


def open_bakery(make_store: Any) -> tuple[Any, int]:
    """A bakery in Todmorden signed up through the real service, its profile and loaf written over the store's
    API, and the loaf published to the marketplace as the publishing drain does."""
    names = {"store_name": "Todmorden Bakery", "subdomain": "todmorden-bakery", "email": OWNER_EMAIL}
    store = make_store(**names, town="Todmorden", postcode="OL14 5AA")
    api = store_api(store.tenant.slug, store.token)
    profile = {"story": "Rosa bakes before dawn by the canal.", "town": "Todmorden", "postcode": "OL14 5AA"}
    assert api.put("/api/v1/seller-profile", profile, format="json").status_code == 200
    created = api.post(
        "/api/v1/products",
        {"title": "Sourdough loaf", "sku": "B-1", "price": 450, "stock": 5, "status": "active"},
        format="json",
    )
    assert created.status_code == 201, created.content
    connection.set_schema_to_public()
    assert in_store(store.tenant, drain_listing_changes) >= 1
    return store, int(created.json()["id"])


def tin_photo() -> dict[str, Any]:
    """A small PNG as a browser uploads it: a loaf tin on a table."""
    image = Image.new("RGB", (160, 120), (236, 228, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 90, 160, 120), fill=(170, 130, 95))
    draw.rectangle((30, 40, 130, 95), fill=(120, 120, 130))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return {"name": "tin.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def assert_pictures_load(page: Any, selector: str, count: int) -> None:
    pictures = page.locator(selector)
    assert pictures.count() == count
    page.wait_for_function(f"() => [...document.querySelectorAll({selector!r})].every(i => i.complete)")
    assert all(pictures.nth(n).evaluate("img => img.naturalWidth") > 0 for n in range(count))


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_a_buyer_signs_up_finds_a_loaf_asks_the_seller_orders_it_and_the_merchant_sees_it_all(
    platform, page, browser, make_store, mailoutbox, media
):
    store, loaf = open_bakery(make_store)
    store_url = platform.replace("//localhost", f"//{store.tenant.slug}.localhost")
    product_page = re.compile(rf"^{re.escape(store_url)}/products/{loaf}/$")
    views = 0  # the buyer's views of the loaf's page, for the merchant's analytics
    page.set_viewport_size({"width": 1100, "height": 900})

    # 1. A buyer signs up on the root domain, opens the link mailed to them, and sets their town
    page.goto(f"{platform}/buyers/sign-up/")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill(BUYER_EMAIL)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(f"{platform}/")
    mail = wait_for(lambda: next((m for m in mailoutbox if m.to == [BUYER_EMAIL]), None), what="the buyer's mail")
    assert "Confirm your email" in mail.subject
    link = re.search(rf"{re.escape(platform)}/buyers/verify/\S+/", mail.body)
    assert link is not None, mail.body
    page.goto(link.group(0))
    assert page.locator("h1").inner_text() == "Your email is verified"
    page.get_by_role("link", name="Your account").click()
    page.wait_for_url(f"{platform}/buyers/me/")
    assert page.locator("#email .status-active").inner_text() == "verified"
    details = page.locator("#details")
    details.get_by_label("Town").fill("Hebden Bridge")
    details.get_by_role("button", name="Save my details").click()
    page.get_by_text("Your details are saved.").wait_for()
    assert page.locator("#details").get_by_label("Town").input_value() == "Hebden Bridge"

    # 2. From the marketplace home they search "sourdugh": near their profile's town without typing it
    page.goto(f"{platform}/")
    assert page.locator("input[name=near]").input_value() == "Hebden Bridge"
    page.fill("input[name=q]", "sourdugh")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#results h2:has-text('1 result near Hebden Bridge')")
    hit = page.locator("li.listing", has_text="Sourdough loaf")
    assert "£4.50" in hit.inner_text() and "Todmorden Bakery" in hit.inner_text() and "Todmorden" in hit.inner_text()
    assert 0 < float(hit.locator(".distance").inner_text().split()[0]) < 15
    hit.locator("a.title").click()
    page.wait_for_url(product_page)
    views += 1
    assert page.locator("h1").inner_text() == "Sourdough loaf"

    # 3. The "Ask the seller" box asks them to sign in: the root hands them back to the store signed in
    asking = page.locator("#message-seller")
    assert "to message Todmorden Bakery" in asking.inner_text()
    asking.get_by_role("link", name="Sign in").click()
    # Through the root's self-submitting handoff form, back to the page they asked from
    page.wait_for_url(product_page)
    views += 1
    assert page.locator(".signed-in").inner_text() == "Signed in as Ada Lovelace"
    asking = page.locator("#message-seller")
    asking.get_by_label("Your message to Todmorden Bakery").fill(QUESTION)
    asking.get_by_label("Add a photo (optional)").set_input_files(tin_photo())
    asking.get_by_role("button", name="Send message").click()
    page.wait_for_url(re.compile(rf"^{re.escape(store_url)}/messages/\d+/$"))
    thread_path = page.url.removeprefix(store_url)
    assert page.locator("h1").inner_text() == "Sourdough loaf"
    assert page.locator(".conversation li.from-buyer").inner_text().count(QUESTION) == 1
    assert_pictures_load(page, ".conversation li.from-buyer img", 1)

    # 4. The merchant signs in to the store admin, opens Messages and the thread: unread, with the photo
    merchant = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    merchant.set_default_timeout(15_000)
    merchant.goto(f"{store_url}/admin/")
    merchant.fill("input[name=username]", OWNER_EMAIL)
    merchant.fill("input[name=password]", STRONG_PASSWORD)
    merchant.click("input[type=submit]")
    merchant.wait_for_url(f"{store_url}/admin/")
    merchant.locator("#content-main .app-store_messages").get_by_role("link", name="Threads").click()
    merchant.wait_for_url(f"{store_url}/admin/store_messages/thread/")
    row = merchant.locator("#result_list tbody tr", has_text="Sourdough loaf")
    assert row.locator(".field-buyer_name").inner_text() == "Ada Lovelace"
    assert row.locator(".field-shown_unread strong").inner_text() == "1"
    row.get_by_role("link", name="Sourdough loaf").click()
    merchant.wait_for_url(re.compile(r".*/admin/store_messages/thread/\d+/change/$"))
    conversation = merchant.locator("#conversation")
    assert QUESTION in conversation.locator("li.buyer").inner_text()
    assert_pictures_load(merchant, "#conversation li.buyer img", 1)
    merchant.get_by_label("Your answer").fill(ANSWER)
    merchant.locator("#reply-form").get_by_role("button", name="Send").click()
    merchant.locator(".messagelist .success", has_text="Sent.").wait_for()
    assert ANSWER in merchant.locator("#conversation li.seller").inner_text()
    screenshot(merchant, "seller-messages.png")
    merchant.goto(f"{store_url}/admin/store_messages/thread/")
    assert merchant.locator("#result_list tbody tr .field-shown_unread").inner_text() == "-"  # read now

    # ...and the buyer sees one new message in their list, and reads the answer
    page.goto(f"{store_url}/messages/")
    thread = page.locator("li.thread", has_text="Sourdough loaf")
    assert thread.locator(".unread-count").inner_text() == "1 new"
    thread.get_by_role("link", name="Sourdough loaf").click()
    page.wait_for_url(f"{store_url}{thread_path}")
    assert page.locator(".conversation li.from-seller").inner_text().count(ANSWER) == 1
    assert "Todmorden Bakery" in page.locator(".conversation li.from-seller .meta").inner_text()
    assert_pictures_load(page, ".conversation img", 1)
    screenshot(page, "buyer-thread.png")
    page.goto(f"{store_url}/messages/")
    assert page.locator("li.thread .unread-count").count() == 0

    # 5. They order the loaf for pickup, paying at the shop
    page.goto(f"{store_url}{thread_path}")
    page.get_by_role("link", name="See the product").click()
    page.wait_for_url(product_page)
    views += 1
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{store_url}/cart/")
    assert page.locator(".cart-total").inner_text() == "£4.50"
    page.get_by_role("link", name="Checkout").click()
    page.wait_for_url(f"{store_url}/checkout/")
    assert page.get_by_label("Email").input_value() == BUYER_EMAIL  # from their account
    assert page.get_by_label("Name").input_value() == "Ada Lovelace"
    assert page.get_by_label("Collect from the shop").is_checked()
    assert page.get_by_label("Pay on pickup or by bank transfer").is_checked()
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(rf"^{re.escape(store_url)}/orders/\d+/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    assert page.locator("h1").inner_text() == f"Thank you: order {number}"
    assert page.locator(".order-status").inner_text() == "Status: Placed"

    # ...and, once the store's order outbox has drained (its Celery task), find it under "Your orders"
    assert in_store(store.tenant, drain_order_changes) == 1
    page.goto(f"{platform}/buyers/orders/")
    order = page.locator("tr.order", has_text=number)
    assert order.count() == 1
    assert order.get_by_role("link", name="Todmorden Bakery").count() == 1
    assert "Sourdough loaf" in order.inner_text() and "£4.50" in order.inner_text()
    assert order.locator(".status").inner_text() == "Placed"
    order.get_by_role("link", name=number).click()
    page.wait_for_url(f"{store_url}/orders/{number}/")

    # 6. The merchant sees the buyer's views of the loaf, once the minute is rolled up (the beat's task)
    in_store(store.tenant, lambda: analytics.roll_up_product_events(now=timezone.now() + timedelta(minutes=2)))
    merchant.goto(f"{store_url}/admin/")
    merchant.locator("#content-main .app-analytics th").get_by_role("link", name="Product analytics").click()
    merchant.wait_for_url(f"{store_url}/admin/analytics/productday/")
    cells = merchant.locator("#top-products tbody tr", has_text="Sourdough loaf").locator("td")
    headings = merchant.locator("#top-products thead th").all_text_contents()
    figures = dict(zip(headings, cells.all_text_contents(), strict=True))
    assert views == 3 and int(figures["Views"]) >= views
    assert int(figures["Unique viewers"]) >= 1
    assert int(figures["Added to cart"]) >= 1
    merchant.context.close()
