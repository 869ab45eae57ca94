"""A buyer browses a store in a real browser: the home page, a category, a search with a typo, and a
product page with the seller's story."""

from __future__ import annotations

import re

from storefront.catalog.models import Category, Product, SellerProfile
from tenants.db_backend import connection


def test_a_buyer_browses_a_category_searches_with_a_typo_and_reads_the_seller_story(platform, page, make_store):
    store = make_store(store_name="Hebden Bakery", subdomain="hebden-bakery")
    connection.set_tenant(store.tenant)
    SellerProfile.objects.create(story="Rosa bakes before dawn with flour from the valley mill.", town="Hebden Bridge")
    bread = Category.objects.create(name="Bread", slug="bread")
    cakes = Category.objects.create(name="Cakes", slug="cakes")
    Product.objects.create(title="Sourdough loaf", sku="B-1", price=450, stock=2, status="active", category=bread)
    Product.objects.create(title="Lemon drizzle", sku="C-1", price=1200, stock=9, status="active", category=cakes)
    Product.objects.create(title="Secret loaf", sku="B-2", price=500, status="draft", category=bread)
    connection.set_schema_to_public()
    store_url = platform.replace("//localhost", "//hebden-bakery.localhost")

    page.goto(f"{store_url}/")
    assert page.locator("h1").inner_text() == "Hebden Bakery"
    assert "Hebden Bridge" in page.locator(".seller-story").inner_text()

    page.get_by_role("link", name="Bread").click()
    page.wait_for_url(re.compile(r".*/c/bread/$"))
    cards = page.locator(".product-card")
    assert cards.count() == 1 and "Sourdough loaf" in cards.inner_text()

    page.get_by_label("Search this store").fill("sourdugh")
    page.get_by_role("button", name="Search").first.click()
    page.wait_for_url(re.compile(r".*/search\?q=sourdugh"))
    assert "similar names" in page.locator("#results").inner_text()

    page.locator(".product-card a", has_text="Sourdough loaf").click()
    page.wait_for_url(re.compile(r".*/products/\d+/$"))
    assert page.locator("h1").inner_text() == "Sourdough loaf"
    assert "£4.50" in page.locator(".product .price").inner_text()
    assert page.locator(".product .stock").inner_text() == "Only 2 left"
    assert "Rosa bakes before dawn" in page.locator(".seller-story").inner_text()
    assert "Secret loaf" not in page.content()
