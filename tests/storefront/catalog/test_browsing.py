"""The storefront's pure parts: reading what buyers type into query strings, page links, category
trees and stock wording (no database)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from storefront.catalog import browsing
from storefront.catalog.availability import LOW_STOCK, stock_state
from storefront.catalog.product_rules import PRICE_MAX

params = st.dictionaries(st.sampled_from(["q", "category", "min", "max", "sort", "page", "other"]), st.text())


@given(params)
def test_any_query_string_parses_to_a_sane_request(values):
    request = browsing.parse_listing(values, currency="GBP", sorts=browsing.SEARCH_SORTS)

    assert 1 <= request.page <= browsing.MAX_PAGE
    assert len(request.words) <= browsing.MAX_WORDS_CHARS
    assert request.words == request.words.strip() and "\x00" not in request.words
    assert request.sort in browsing.SEARCH_SORTS
    for bound in (request.price_min, request.price_max):
        assert bound is None or 0 <= bound <= PRICE_MAX
    if request.price_min is not None and request.price_max is not None:
        assert request.price_min <= request.price_max


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["GBP", "JPY", "KWD"]))
def test_a_price_written_out_reads_back_as_the_same_minor_units(minor, currency):
    exponent = {"GBP": 2, "JPY": 0, "KWD": 3}[currency]
    text = f"{minor / 10**exponent:.{exponent}f}" if exponent else str(minor)

    assert browsing.parse_price(text, currency) == minor


def test_prices_are_read_as_people_type_them():
    assert browsing.parse_price("4.50", "GBP") == 450
    assert browsing.parse_price("£4.5", "GBP") == 450
    assert browsing.parse_price("1,200", "GBP") == 120_000
    assert browsing.parse_price("4.509", "GBP") == 450  # cut, never rounded up
    assert browsing.parse_price(".5", "GBP") == 50
    for unreadable in ("", "-1", "abc", "1e9", "4.5.0", "NaN"):
        assert browsing.parse_price(unreadable, "GBP") is None


def test_reversed_price_bounds_are_swapped():
    request = browsing.parse_listing({"min": "20", "max": "5"}, currency="GBP")

    assert (request.price_min, request.price_max) == (500, 2000)


def test_the_default_order_is_relevance_for_words_and_newest_otherwise():
    assert browsing.parse_listing({"q": "bread"}, currency="GBP", sorts=browsing.SEARCH_SORTS).sort == "relevance"
    assert browsing.parse_listing({}, currency="GBP", sorts=browsing.SEARCH_SORTS).sort == "newest"
    assert browsing.parse_listing({"sort": "relevance"}, currency="GBP").sort == "newest"  # not a list order


@given(params)
def test_a_page_link_parses_back_to_the_same_request(values):
    request = browsing.parse_listing(values, currency="GBP", sorts=browsing.SEARCH_SORTS)

    link = browsing.query_string(request, "GBP")

    assert browsing.parse_listing(dict(parse_qsl(link)), currency="GBP", sorts=browsing.SEARCH_SORTS) == request


@given(st.lists(st.tuples(st.integers(1, 30), st.none() | st.integers(1, 30)), max_size=40), st.integers(1, 30))
def test_a_category_tree_walk_ends_and_holds_exactly_the_reachable_categories(pairs, root):
    found = browsing.category_and_descendants(pairs, root)

    assert root in found
    for category, parent in pairs:
        if parent in found:
            assert category in found
    for category in found - {root}:
        assert any(parent in found for child, parent in pairs if child == category)


@given(st.integers(min_value=-5, max_value=10**6))
def test_stock_wording(stock):
    state = stock_state(stock)

    if stock <= 0:
        assert (state.code, state.label, state.can_buy) == ("sold_out", "Sold out", False)
    elif stock <= LOW_STOCK:
        assert state.label == f"Only {stock} left" and state.can_buy
    else:
        assert (state.code, state.label) == ("in_stock", "In stock")
