"""`{% cart_units %}`: how many units the visitor's cart holds, for the storefront's header."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Sum

from storefront.orders.models import CartItem

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_units(context: Any) -> int:
    """A guest's cart is their session's (storefront.shop.guest_cart). A visitor without a session
    costs no query, so pages served to new visitors and crawlers stay as cheap as before."""
    session = getattr(context.get("request"), "session", None)
    key = session.session_key if session is not None else None
    if not key:
        return 0
    units = CartItem.objects.filter(cart__session_key=key).aggregate(units=Sum("quantity"))["units"]
    return int(units or 0)
