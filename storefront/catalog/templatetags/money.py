"""`{{ amount|money:currency }}`: integer minor units shown as a price, e.g. 380, "GBP" -> £3.80."""

from decimal import Decimal

from django import template

from storefront.catalog.currencies import minor_unit_exponent

register = template.Library()

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@register.filter
def money(amount: int | None, currency: str = "GBP") -> str:
    if amount is None:
        return ""
    exponent = minor_unit_exponent(currency)
    value = Decimal(amount).scaleb(-exponent)
    text = f"{value:,.{exponent}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
