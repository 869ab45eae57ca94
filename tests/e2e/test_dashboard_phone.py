"""A new merchant runs their shop from the dashboard on a phone: sees what to do next, adds a product with a
photo (a real worker prepares it), finds a buyer's message and order on the home page, answers the message,
moves the order to paid and ready for pickup, and changes plan with its proration preview. Every dashboard
page on the way is checked with axe; screenshots of home, the order and the thread go to docs/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django_tenants.utils import tenant_context

from billing.models import Subscription
from storefront.catalog.models import Product
from storefront.images.models import ProductImage
from storefront.messages.models import Message
from storefront.orders.models import Order
from tests.conftest import STRONG_PASSWORD
from tests.e2e.accessibility import assert_accessible
from tests.storefront.images.image_files import photo_bytes
from tests.storefront.orders.conftest import fill_cart, shop, sign_up_buyer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
OWNER_EMAIL = "june@calder-candles.example.com"
QUESTION = "Does the beeswax candle smell of honey? I'd collect it on Saturday."
ANSWER = "A little: it is unscented beeswax. Saturday is fine, we open at nine."


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_a_new_merchant_runs_their_shop_from_a_phone(platform, browser, make_store, root_api, media, celery_worker):
    # Given a store just signed up, and its owner signed in on a phone
    store = make_store(subdomain="calder-candles", store_name="Calder Candles", email=OWNER_EMAIL)
    store_url = platform.replace("//localhost", "//calder-candles.localhost")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{store_url}/admin/login/?next=/dashboard/")
    page.fill("input[name=username]", OWNER_EMAIL)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{store_url}/dashboard/")

    # 1. Home says what to do next
    next_steps = page.locator(".next-steps")
    assert next_steps.get_by_role("heading", name="What to do next").is_visible()
    assert "Add your first product" in next_steps.inner_text()
    assert page.locator("#orders-title .count").inner_text() == "0"
    assert_accessible(page, "dashboard home")

    # 2. Products: add one, then a photo the worker prepares
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Products").click()
    page.wait_for_url(f"{store_url}/dashboard/products/")
    page.get_by_role("link", name="Add a product").click()
    page.wait_for_url(f"{store_url}/dashboard/products/new")
    page.get_by_label("Title").fill("Beeswax candle")
    page.get_by_label("Price").fill("4.50")
    page.get_by_label("Stock").fill("3")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("SKU").fill("CANDLE-1")
    page.get_by_role("button", name="Add the product").click()
    page.wait_for_url(re.compile(rf"^{re.escape(store_url)}/dashboard/products/\d+/$"))
    candle = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert page.locator(".notices").inner_text() == "Beeswax candle added. Now add its photos."
    with tenant_context(store.tenant):
        made = Product.objects.get()
        assert (made.pk, made.price, made.currency, made.stock, made.status) == (candle, 450, "GBP", 3, "active")

    with celery_worker():
        page.get_by_label("Add a photo").set_input_files(
            {"name": "candle.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes((900, 1200), colour=(230, 190, 60))}
        )
        # Uploaded, then htmx asks for the list again until the worker has prepared the photo
        page.wait_for_function("document.querySelectorAll('#photo-list img').length === 1", timeout=30_000)
    assert page.locator("#photo-list").get_attribute("hx-get") is None
    assert page.locator("#photo-list li .badge").inner_text() == "Main photo"
    page.wait_for_function("[...document.querySelectorAll('#photo-list img')].every(i => i.complete && i.naturalWidth)")
    assert_accessible(page, "dashboard product page")
    with tenant_context(store.tenant):
        photo = ProductImage.objects.get()
        assert (photo.product_id, photo.status, photo.is_main) == (candle, "ready", True)

    page.get_by_role("link", name="← Products").click()
    page.wait_for_url(f"{store_url}/dashboard/products/")
    row = page.locator(f"#product-{candle}")
    assert row.get_by_role("link", name="Beeswax candle").is_visible()
    assert row.locator(".product-thumb img").count() == 1
    assert page.input_value(f"#price-{candle}") == "4.50"
    assert_accessible(page, "dashboard products list")

    # 3. A buyer writes about the candle and orders it for pickup, paying at the shop (the store's API)
    buyer = sign_up_buyer(root_api, "ada@example.com")
    buyer_api = shop(store, buyer)
    asked = buyer_api.post("/api/v1/messages", {"body": QUESTION, "product": candle}, format="json")
    assert asked.status_code == 201, asked.content
    thread = asked.json()["id"]
    fill_cart(buyer_api, (candle, 1))
    placed = buyer_api.post(
        "/api/v1/checkout", {"fulfilment": "pickup", "payment": "local"}, format="json", HTTP_IDEMPOTENCY_KEY="candle-1"
    )
    assert placed.status_code == 201, placed.content
    order = placed.json()["order"]
    assert (order["status"], order["total"]) == ("placed", 450)

    # 4. Home: one unread message and the order to prepare
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Home").click()
    page.wait_for_url(f"{store_url}/dashboard/")
    assert page.locator("#messages-title + p").inner_text() == "1 unread"
    assert page.locator("#orders-title .count").inner_text() == "1"
    to_prepare = page.locator(".rows li", has_text=f"Order {order['number']}")
    assert "Ada Buyer" in to_prepare.inner_text() and "£4.50" in to_prepare.inner_text()
    assert "Placed" in to_prepare.inner_text()
    screenshot(page, "dashboard-home-phone.png")
    assert_accessible(page, "dashboard home with an order and a message")

    # ...Messages: open the thread (read now) and answer it
    page.get_by_role("link", name="1 unread").click()
    page.wait_for_url(f"{store_url}/dashboard/messages/")
    listed = page.locator(".thread-rows li", has_text="Beeswax candle")
    assert listed.locator(".count").inner_text() == "1 unread"
    listed.get_by_role("link", name="Beeswax candle").click()
    page.wait_for_url(f"{store_url}/dashboard/messages/{thread}/")
    assert QUESTION in page.locator(".conversation li.buyer").inner_text()
    page.get_by_label("Your answer").fill(ANSWER)
    page.locator("#reply-form").get_by_role("button", name="Send").click()
    page.locator(".notices .success", has_text="Sent.").wait_for()
    assert page.url == f"{store_url}/dashboard/messages/{thread}/"
    assert ANSWER in page.locator(".conversation li.seller").inner_text()
    assert OWNER_EMAIL in page.locator(".conversation li.seller .meta").inner_text()
    screenshot(page, "dashboard-thread-phone.png")
    assert_accessible(page, "dashboard thread page")
    shown = buyer_api.get(f"/api/v1/messages/threads/{thread}").json()
    assert [(m["sender"], m["body"]) for m in shown["messages"]] == [("buyer", QUESTION), ("seller", ANSWER)]

    # 5. Orders: open the order, mark it paid, then ready for pickup (the panel swaps in place)
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Orders").click()
    page.wait_for_url(f"{store_url}/dashboard/orders/")
    page.get_by_role("link", name=f"Order {order['number']}").click()
    page.wait_for_url(f"{store_url}/dashboard/orders/{order['id']}/")
    status = page.locator("#status-title .status")
    assert status.inner_text() == "Placed"
    assert "Beeswax candle" in page.locator("#lines-title + table").inner_text()
    assert_accessible(page, "dashboard order page")

    page.get_by_role("button", name="Mark paid").click()
    page.locator("#order-status .notices .success", has_text=f"Order {order['number']} is now paid.").wait_for()
    assert status.inner_text() == "Paid"
    page.get_by_role("button", name="Ready for pickup").click()
    page.locator("#order-status .notices", has_text="now ready for pickup").wait_for()
    assert status.inner_text() == "Ready for pickup"
    assert page.get_by_role("button", name="Mark paid").count() == 0
    assert "Ready for pickup" in page.locator("#order-history").inner_text()
    screenshot(page, "dashboard-order-phone.png")
    assert_accessible(page, "dashboard order page, ready for pickup")
    with tenant_context(store.tenant):
        assert Order.objects.get(pk=order["id"]).status == "ready_for_pickup"
        assert Message.objects.filter(thread_id=thread).count() == 2
    assert buyer_api.get(f"/api/v1/orders/{order['id']}").json()["status"] == "ready_for_pickup"

    # 6. Plan and bills: preview a change of plan with its proration, then confirm it
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Plan and bills").click()
    page.wait_for_url(f"{store_url}/admin/billing/")
    assert page.locator("#plan-name").inner_text() == "Starter"
    assert_accessible(page, "plan and bills")
    # Nothing wider than the phone: wide tables scroll inside their cards
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.select_option("#plan-choice", "growth")
    page.click("#preview-change")
    page.wait_for_selector("#proration")
    assert "Remaining time on Growth" in page.locator("#proration").inner_text()
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "starter"  # nothing changed by a preview
    page.click("#confirm-change")
    page.wait_for_selector("text=now on the Growth plan")
    assert page.locator("#plan-name").inner_text() == "Growth"
    assert Subscription.objects.get(tenant=store.tenant).plan.code == "growth"
    context.close()
