"""`{{ product.stock|stock_state }}`: what buyers are told about a product's stock."""

from django import template

from storefront.catalog.availability import StockState
from storefront.catalog.availability import stock_state as _stock_state

register = template.Library()


@register.filter
def stock_state(stock: int) -> StockState:
    return _stock_state(stock)
