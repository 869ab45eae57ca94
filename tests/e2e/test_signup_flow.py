"""A merchant signs up through the web form and lands in their live store's admin; staff suspend
and reactivate it from the console."""

from __future__ import annotations

import re

from django_tenants.utils import schema_exists

from tenants.models import Tenant
from tests.conftest import STRONG_PASSWORD, make_platform_staff


def fill_signup(page, **fields):
    values = {
        "store_name": "Hebden Bakery",
        "subdomain": "hebden-bakery",
        "email": "rosa@example.com",
        "password": STRONG_PASSWORD,
        "town": "Hebden Bridge",
        "postcode": "HX7 8AD",
    }
    values.update(fields)
    for name, value in values.items():
        page.fill(f"input[name={name}]", value)


def test_a_merchant_signs_up_and_lands_in_the_dashboard_of_a_live_store(platform, page):
    page.goto(f"{platform}/signup/")
    fill_signup(page)
    page.check("input[name=tenancy][value=shared]")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.click("button[type=submit]")

    page.wait_for_url(re.compile(r"http://hebden-bakery\.localhost:\d+/dashboard/"))
    # The one-time login token was POSTed to the store, never in a URL that access logs keep.
    assert any(url.endswith("/accounts/handoff/") for url in requested)
    assert not [url for url in requested if "token" in url]
    assert "Today at Hebden Bakery" in page.content()
    assert "Add your first product" in page.content()
    assert Tenant.objects.get(slug="hebden-bakery").status == "active"
    # The storefront is live for buyers too.
    page.goto(page.url.replace("/dashboard/", "/"))
    assert page.locator("h1").inner_text() == "Hebden Bakery"


def test_a_reserved_subdomain_and_a_weak_password_are_shown_next_to_their_fields(platform, page):
    page.goto(f"{platform}/signup/")
    fill_signup(page, subdomain="admin", password="password")

    page.click("button[type=submit]")

    assert "reserved" in page.locator("#field-subdomain .errorlist").inner_text()
    assert "too common" in page.locator("#field-password .errorlist").inner_text()
    assert not Tenant.objects.exists()
    assert not schema_exists("t_admin")


def test_staff_suspend_a_store_from_the_console_and_buyers_see_it_closed(platform, page):
    page.goto(f"{platform}/signup/")
    fill_signup(page)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/"))
    store_url = page.url.replace("/dashboard/", "/")
    make_platform_staff()

    page.goto(f"{platform}/admin/login/?next=/console/")
    page.fill("input[name=username]", "staff@localbazaar.test")
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/console/"))
    row = page.locator("#tenant-hebden-bakery")
    assert "Active" in row.inner_text()

    page.once("dialog", lambda dialog: dialog.accept("Reported counterfeit goods"))
    row.get_by_role("button", name="Suspend").click()
    page.wait_for_function("document.querySelector('#tenant-hebden-bakery').innerText.includes('Suspended')")
    assert "Reported counterfeit goods" in page.locator("#tenant-hebden-bakery").inner_text()

    buyer = page.context.browser.new_page()
    buyer.goto(store_url)
    assert "temporarily closed" in buyer.content()
    buyer.close()

    page.locator("#tenant-hebden-bakery").get_by_role("button", name="Reactivate").click()
    page.wait_for_function("document.querySelector('#tenant-hebden-bakery').innerText.includes('Active')")
    page.goto(store_url)
    assert page.locator("h1").inner_text() == "Hebden Bakery"
