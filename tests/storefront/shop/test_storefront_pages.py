"""The storefront buyers see on a store's host: home, category pages, product pages and the seller's
story, with the query count of each hot page pinned, drafts hidden and closed stores closed."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.http import HttpRequest
from django.test import Client

from onboarding.services import SignupResult
from storefront.catalog.models import Category, Product, SellerProfile
from tenants import lifecycle
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD, store_host
from tests.storefront.conftest import SchemaKeepingBrowser

# Product cards and pages show the main image; the image app fetches it in one query per page.
IMAGE_QUERIES = int(apps.is_installed("storefront.images"))


def buyer(store: SignupResult) -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))


def add_product(title: str = "Sourdough loaf", **fields: Any) -> Product:
    n = Product.objects.count() + 1
    values: dict[str, Any] = {"sku": f"SKU-{n}", "price": 450, "stock": 12, "status": "active"}
    values.update(fields)
    return Product.objects.create(title=title, **values)


@pytest.fixture
def bakery(in_store: SignupResult) -> SignupResult:
    """A store with a story, two categories (one a subcategory) and products in every status."""
    SellerProfile.objects.create(story="We bake before dawn with flour milled up the valley.", town="Hebden Bridge")
    bread = Category.objects.create(name="Bread", slug="bread")
    rye = Category.objects.create(name="Rye bread", slug="rye", parent=bread)
    cakes = Category.objects.create(name="Cakes", slug="cakes")
    add_product("Sourdough loaf", category=bread, price=450, description="Slow-risen.", tags=["vegan"])
    add_product("Dark rye", category=rye, price=520, stock=3)
    add_product("Lemon drizzle cake", category=cakes, price=1200, stock=0)
    add_product("Secret seeded loaf", category=bread, status="draft")
    add_product("Old focaccia", category=bread, status="archived")
    return in_store


def texts(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_home_page_shows_the_story_categories_and_only_active_products(bakery):
    page = texts(buyer(bakery).get("/"))

    assert f"<h1>{bakery.tenant.name}</h1>" in page
    assert "We bake before dawn" in page and "Hebden Bridge" in page
    assert 'href="/c/bread/"' in page and 'href="/c/cakes/"' in page
    assert 'href="/c/rye/"' not in page  # subcategories are on their parent's page
    for title in ("Sourdough loaf", "Dark rye", "Lemon drizzle cake"):
        assert title in page
    assert "Secret seeded loaf" not in page and "Old focaccia" not in page
    assert "£4.50" in page and "Only 3 left" in page and "Sold out" in page and "In stock" in page


def test_the_home_page_before_the_seller_wrote_a_story_names_the_town_from_signup(in_store):
    page = texts(buyer(in_store).get("/"))

    assert "No products yet." in page
    assert "Hebden Bridge" in page  # the signup's town, read from the registry


def test_a_category_page_lists_its_active_products_and_its_subcategories_products(bakery):
    page = texts(buyer(bakery).get("/c/bread/"))

    assert "<h1>Bread</h1>" in page
    assert "Sourdough loaf" in page and "Dark rye" in page
    assert "Lemon drizzle cake" not in page
    assert "Secret seeded loaf" not in page and "Old focaccia" not in page
    assert 'href="/c/rye/"' in page


def test_a_subcategory_page_links_back_to_its_parent(bakery):
    page = texts(buyer(bakery).get("/c/rye/"))

    assert "Dark rye" in page and "Sourdough loaf" not in page
    assert 'href="/c/bread/"' in page


def test_a_category_page_sorts_by_price_both_ways(bakery):
    cheap_first = texts(buyer(bakery).get("/c/bread/?sort=price"))
    dear_first = texts(buyer(bakery).get("/c/bread/?sort=-price"))

    assert cheap_first.index("Sourdough loaf") < cheap_first.index("Dark rye")
    assert dear_first.index("Dark rye") < dear_first.index("Sourdough loaf")


def test_an_unknown_category_is_404(bakery):
    assert buyer(bakery).get("/c/biscuits/").status_code == 404


def test_lists_are_paginated_and_keep_their_sort_order(in_store):
    for n in range(30):
        add_product(f"Bun {n:02d}", price=100 + n)

    first = texts(buyer(in_store).get("/"))
    second = texts(buyer(in_store).get("/?page=2"))

    assert first.count('class="product-card"') == 24
    assert 'rel="next" href="?page=2"' in first and 'rel="prev"' not in first
    assert second.count('class="product-card"') == 6
    assert 'rel="prev" href="?"' in second and 'rel="next"' not in second
    assert "Bun 29" in first and "Bun 00" in second  # newest first
    assert texts(buyer(in_store).get("/?page=banana")).count('class="product-card"') == 24


def test_the_product_page_shows_price_stock_description_tags_and_the_seller_story(bakery):
    product = Product.objects.get(title="Sourdough loaf")

    page = texts(buyer(bakery).get(f"/products/{product.pk}/"))

    assert "<h1>Sourdough loaf</h1>" in page
    assert "£4.50" in page and "In stock" in page and "Slow-risen." in page
    assert 'href="/search?q=vegan"' in page
    assert "We bake before dawn" in page
    assert 'href="/c/bread/"' in page
    assert "Preview" not in page


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_draft_and_archived_products_are_404_for_buyers(bakery, status):
    product = Product.objects.get(status=status)

    response = buyer(bakery).get(f"/products/{product.pk}/")

    assert response.status_code == 404
    assert product.title.encode() not in response.content


def test_an_unknown_product_id_is_404(bakery):
    assert buyer(bakery).get("/products/999999/").status_code == 404


def test_the_owner_logged_in_previews_a_draft_with_a_banner(bakery):
    draft = Product.objects.get(status="draft")
    owner = buyer(bakery)
    assert owner.login(request=HttpRequest(), username=bakery.owner.email, password=STRONG_PASSWORD)

    page = texts(owner.get(f"/products/{draft.pk}/"))

    assert "Secret seeded loaf" in page
    assert "Preview: this product is draft" in page


def test_the_about_page_tells_the_whole_story(bakery):
    SellerProfile.objects.filter(pk=1).update(story="Chapter one. " * 60 + "The end.")

    page = texts(buyer(bakery).get("/about/"))

    assert "The end." in page
    assert "Hebden Bridge" in page


def test_the_home_page_teases_a_long_story_and_links_to_the_about_page(bakery):
    SellerProfile.objects.filter(pk=1).update(story="Chapter one. " * 60 + "The end.")

    page = texts(buyer(bakery).get("/"))

    assert "The end." not in page
    assert 'href="/about/"' in page


@pytest.mark.parametrize("path", ["/", "/c/bread/", "/about/", "/search?q=loaf"])
def test_a_suspended_store_closes_every_storefront_page(bakery, path):
    product = Product.objects.get(title="Sourdough loaf")
    lifecycle.suspend(bakery.tenant, "Unpaid invoice", by=lifecycle.Actor.system("test"))

    for url in (path, f"/products/{product.pk}/"):
        response = buyer(bakery).get(url)
        assert response.status_code == 503
        assert b"temporarily closed" in response.content
        assert b"Sourdough loaf" not in response.content


# --- Query counts: a fixed number per page, however many products, categories or images -----------


def warm(client: Client) -> None:
    """The first request resolves the host (then cached): the counts below are of a warm store."""
    client.get("/about/")


def test_home_page_query_count(bakery, django_assert_num_queries):
    for n in range(30):
        add_product(f"Bun {n}")
    client = buyer(bakery)
    warm(client)

    # categories, the page of products (+ their main images), the seller profile
    with django_assert_num_queries(3 + IMAGE_QUERIES):
        assert client.get("/").status_code == 200


def test_category_page_query_count(bakery, django_assert_num_queries):
    bread = Category.objects.get(slug="bread")
    for n in range(30):
        add_product(f"Bun {n}", category=bread)
    client = buyer(bakery)
    warm(client)

    # categories (the page's, its parent's and children's, in one), the page of products (+ images)
    with django_assert_num_queries(2 + IMAGE_QUERIES):
        assert client.get("/c/bread/?sort=price&page=2").status_code == 200


def test_product_page_query_count(bakery, django_assert_num_queries):
    product = Product.objects.get(title="Sourdough loaf")
    client = buyer(bakery)
    warm(client)

    # the product with its category, the seller profile (+ the main image)
    with django_assert_num_queries(2 + IMAGE_QUERIES):
        assert client.get(f"/products/{product.pk}/").status_code == 200


def test_about_page_query_count(bakery, django_assert_num_queries):
    client = buyer(bakery)
    warm(client)

    with django_assert_num_queries(1):
        assert client.get("/about/").status_code == 200


# --- Isolation: another store's ids, slugs and words lead nowhere --------------------------------


@pytest.fixture
def two_stores(make_store: Any) -> tuple[SignupResult, SignupResult]:
    a, b = make_store(subdomain="alpha"), make_store(subdomain="beta")
    connection.set_tenant(a.tenant)
    SellerProfile.objects.create(story="Alpha's story of smoked cheese.")
    Category.objects.create(name="Cheese", slug="cheese")
    for n in range(3):
        add_product(f"Smoked cheddar {n}", sku=f"A-{n}")
    connection.set_tenant(b.tenant)
    add_product("Beta's own bread", sku="B-1")
    connection.set_schema_to_public()
    return a, b


def test_a_product_id_of_store_a_is_404_on_store_b(two_stores):
    a, b = two_stores
    connection.set_tenant(a.tenant)
    ids = list(Product.objects.values_list("pk", flat=True))
    connection.set_tenant(b.tenant)
    b_ids = set(Product.objects.values_list("pk", flat=True))
    connection.set_schema_to_public()

    statuses = []
    for pk in ids:
        response = buyer(b).get(f"/products/{pk}/")
        statuses.append(response.status_code)
        # Ids are per store: one of A's ids may be B's own product, never A's.
        assert b"Smoked cheddar" not in response.content
        assert (b"own bread" in response.content) == (pk in b_ids)  # B's own page, or none
    assert statuses == [200 if pk in b_ids else 404 for pk in ids]
    assert buyer(a).get(f"/products/{ids[0]}/").status_code == 200


def test_store_a_categories_story_and_products_never_show_on_store_b(two_stores):
    a, b = two_stores

    assert buyer(b).get("/c/cheese/").status_code == 404
    for path in ("/", "/about/", "/search?q=smoked+cheddar", "/search?q=smokd+chedar"):
        page = buyer(b).get(path).content.decode()
        assert "Smoked cheddar" not in page and "smoked cheese" not in page
    assert "Smoked cheddar" in buyer(a).get("/search?q=smoked+cheddar").content.decode()
