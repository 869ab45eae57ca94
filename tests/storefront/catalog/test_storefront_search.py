"""In-store search: full-text over title, tags and description (weighted), a typo fallback on titles,
filters, pagination and a fixed query count; only the store's own schema is ever searched."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection as plain_connection

from storefront.catalog import product_search, selectors
from storefront.catalog.models import Category, Product
from tests.storefront.shop.test_storefront_pages import IMAGE_QUERIES, add_product, buyer, texts, warm


@pytest.fixture
def shop(in_store: Any) -> Any:
    bread = Category.objects.create(name="Bread", slug="bread")
    cakes = Category.objects.create(name="Cakes", slug="cakes")
    add_product("Sourdough loaf", category=bread, price=450, description="Naturally leavened.")
    add_product("Seeded rye", category=bread, price=520, tags=["sourdough", "vegan"])
    add_product("Carrot cake", category=cakes, price=1800, description="Made with our sourdough starter discard.")
    add_product("Chocolate brownie", category=cakes, price=300, tags=["gluten free"])
    add_product("Sourdough starter kit", category=bread, price=900, status="draft")
    return in_store


def titles(html: str) -> list[str]:
    """Product titles on a results page, in order."""
    return re.findall(r'<span class="product-title">([^<]+)</span>', html)


def test_words_in_title_rank_above_tags_above_description(shop):
    found = titles(texts(buyer(shop).get("/search?q=sourdough")))

    assert found == ["Sourdough loaf", "Seeded rye", "Carrot cake"]  # title, tag, description


def test_search_stems_words_and_reads_tags_as_words(shop):
    assert titles(texts(buyer(shop).get("/search?q=loaves"))) == ["Sourdough loaf"]
    assert titles(texts(buyer(shop).get("/search?q=gluten"))) == ["Chocolate brownie"]


def test_web_search_syntax_excludes_words(shop):
    found = titles(texts(buyer(shop).get("/search?q=sourdough+-cake")))

    assert sorted(found) == ["Seeded rye", "Sourdough loaf"]


def test_a_misspelt_word_finds_products_by_title_resemblance(shop):
    page = texts(buyer(shop).get("/search?q=sourdugh"))

    assert titles(page) == ["Sourdough loaf"]
    assert "similar names" in page


def test_a_misspelt_word_with_a_correct_one_still_finds_the_product(shop):
    assert titles(texts(buyer(shop).get("/search?q=choclate+brownie"))) == ["Chocolate brownie"]


def test_words_that_match_nothing_say_so(shop):
    page = texts(buyer(shop).get("/search?q=xylophone"))

    assert titles(page) == []
    assert "No products match" in page


def test_drafts_are_never_found(shop):
    for words in ("starter kit", "sourdough starter", "startr kit"):
        assert "Sourdough starter kit" not in titles(texts(buyer(shop).get(f"/search?q={words}")))


def test_category_and_price_filters_narrow_the_results(shop):
    assert titles(texts(buyer(shop).get("/search?q=sourdough&category=bread"))) == ["Sourdough loaf", "Seeded rye"]
    assert titles(texts(buyer(shop).get("/search?q=sourdough&min=5&max=20"))) == ["Seeded rye", "Carrot cake"]
    assert titles(texts(buyer(shop).get("/search?q=sourdough&max=4.50"))) == ["Sourdough loaf"]
    # Filters alone browse the store.
    assert titles(texts(buyer(shop).get("/search?category=cakes&sort=price"))) == ["Chocolate brownie", "Carrot cake"]


def test_results_sort_by_price_and_newest(shop):
    assert titles(texts(buyer(shop).get("/search?q=sourdough&sort=-price"))) == [
        "Carrot cake",
        "Seeded rye",
        "Sourdough loaf",
    ]
    assert titles(texts(buyer(shop).get("/search?q=sourdough&sort=newest")))[0] == "Carrot cake"


def test_unreadable_parameters_are_ignored_not_errors(shop):
    page = texts(buyer(shop).get("/search?q=sourdough&min=abc&max=-1&category=No%20Such!&sort=evil&page=0"))

    assert titles(page) == ["Sourdough loaf", "Seeded rye", "Carrot cake"]


def test_search_results_are_paginated_with_the_query_kept(in_store):
    for n in range(30):
        add_product(f"Honey bun {n:02d}")

    first = texts(buyer(in_store).get("/search?q=honey&sort=newest"))
    second = texts(buyer(in_store).get("/search?q=honey&sort=newest&page=2"))

    assert len(titles(first)) == 24 and len(titles(second)) == 6
    assert 'href="?q=honey&amp;sort=newest&amp;page=2"' in first
    assert set(titles(first)).isdisjoint(titles(second))


def test_an_empty_search_shows_the_form_only(shop):
    page = texts(buyer(shop).get("/search?q="))

    assert titles(page) == []
    assert 'name="q"' in page


def test_search_uses_the_indexes(shop):
    """In a catalog of thousands, the words and the typo fallback are answered by the GIN indexes."""
    Product.objects.bulk_create(
        Product(title=f"Jar of jam no. {n}", sku=f"JAM-{n}", price=300, status="active", description="Plum.")
        for n in range(3000)
    )
    with plain_connection.cursor() as cursor:
        # As autovacuum would: move the bulk insert out of the GIN pending lists (costed as a full scan).
        for index in ("product_document_gin", "product_title_trgm"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE catalog_product")
        for condition, index in (
            (product_search.matches_words("sourdough"), "product_document_gin"),
            (product_search.title_resembles("sourdugh"), "product_title_trgm"),
        ):
            sql, params = selectors.listed_products().filter(condition).query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row for (row,) in cursor.fetchall())
            assert f"Bitmap Index Scan on {index}" in plan, plan


def test_search_query_count(shop, django_assert_num_queries):
    for n in range(30):
        add_product(f"Sourdough roll {n}")
    client = buyer(shop)
    warm(client)

    # the categories (for the filter), one page of matches (+ their main images)
    with django_assert_num_queries(2 + IMAGE_QUERIES):
        assert client.get("/search?q=sourdough").status_code == 200


def test_misspelt_search_query_count(shop, django_assert_num_queries):
    client = buyer(shop)
    warm(client)

    # categories, the (empty) page of word matches, the typo threshold, one page by resemblance (+ images)
    with django_assert_num_queries(4 + IMAGE_QUERIES):
        response = client.get("/search?q=sourdugh")
    assert titles(texts(response)) == ["Sourdough loaf"]
