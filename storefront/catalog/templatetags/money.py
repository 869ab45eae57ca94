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
    # A credit reads "-£9.00", the sign before the symbol, as invoices print it (billing.invoice_pdf).
    sign = "-" if amount < 0 else ""
    value = Decimal(abs(amount)).scaleb(-exponent)
    text = f"{value:,.{exponent}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"
