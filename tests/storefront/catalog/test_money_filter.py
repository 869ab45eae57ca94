"""Prices are integer minor units; pages show them as money."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront.catalog.templatetags.money import money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (380, "GBP", "£3.80"),
        (0, "EUR", "€0.00"),
        (123456, "USD", "$1,234.56"),
        (500, "JPY", "500 JPY"),
        (5, "CHF", "0.05 CHF"),
        (-900, "GBP", "-£9.00"),
        (-5, "CHF", "-0.05 CHF"),
    ],
)
def test_minor_units_are_shown_as_prices(amount, currency, shown):
    assert money(amount, currency) == shown


@given(st.integers(min_value=0, max_value=10**12))
def test_the_shown_price_keeps_every_minor_unit(amount):
    assert int(money(amount, "GBP").lstrip("£").replace(",", "").replace(".", "")) == amount
