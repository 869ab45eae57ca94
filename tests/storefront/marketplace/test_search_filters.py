"""Reading the marketplace page's GET parameters (pure): whatever arrives, a usable search comes out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storefront.catalog.product_rules import PRICE_MAX
from storefront.marketplace.search_filters import (
    MAX_PAGE,
    MAX_QUERY,
    SORTS,
    PageSearch,
    read_search,
    without_place,
)

FIELDS = ("q", "near", "category", "min_price", "max_price", "in_stock", "within_km", "sort", "page")
hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["NaN", "-Infinity", "1e999999", "-0", "0x10", "12,50", "١٢", "²", "1_000", " 7 ", "£3.20"]),
)


@given(st.dictionaries(st.sampled_from(FIELDS), hostile_text))
def test_any_parameters_give_a_search_within_its_limits(params):
    search = read_search(params)

    assert len(search.q) <= MAX_QUERY and search.sort in SORTS and 1 <= search.page <= MAX_PAGE
    for price in (search.min_price, search.max_price):
        assert price is None or 0 <= price <= PRICE_MAX
    if search.min_price is not None and search.max_price is not None:
        assert search.min_price <= search.max_price
    assert search.within_km is None or 0.1 <= search.within_km <= 1000


def test_prices_are_typed_in_pounds_and_searched_in_pence():
    search = read_search({"min_price": "£2", "max_price": "12.505"})

    assert (search.min_price, search.max_price, search.notices) == (200, 1251, ())


def test_a_missing_place_is_not_an_empty_one():
    assert read_search({}).near is None  # the remembered town applies
    assert read_search({"near": " "}).near == ""  # the buyer cleared it: anywhere


def test_without_a_place_distance_filters_and_nearest_first_are_dropped_with_a_note():
    search = without_place(PageSearch(within_km=10.0, sort="nearest"))

    assert (search.within_km, search.sort, len(search.notices)) == (None, "relevance", 2)
