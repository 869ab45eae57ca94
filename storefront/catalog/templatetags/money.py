"""`{{ amount|money:currency }}`: integer minor units shown as a price, e.g. 380, "GBP" -> £3.80."""

from decimal import Decimal

from django import template

register = template.Library()

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
# ISO 4217 currencies without minor units; the rest used here have two decimals.
_ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX"}


@register.filter
def money(amount: int | None, currency: str = "GBP") -> str:
    if amount is None:
        return ""
    exponent = 0 if currency in _ZERO_DECIMAL else 2
    value = Decimal(amount).scaleb(-exponent)
    text = f"{value:,.{exponent}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
