"""The storefront header's tags: how many units the visitor's cart holds (`{% cart_units %}`), and who is
signed in (`{% shop_buyer %}`, `{% buyer_sign_in_url %}`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.db.models import Sum

from storefront.orders.models import CartItem
from tenants.routing import platform_url

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_units(context: Any) -> int:
    """A guest's cart is their session's, a signed-in buyer's their own (storefront.shop.guest_cart). A
    visitor without a session costs no query, so pages served to new visitors and crawlers stay as cheap
    as before."""
    session = getattr(context.get("request"), "session", None)
    key = session.session_key if session is not None else None
    if not key:
        return 0
    buyer = session.get("shop_buyer") if session is not None else None  # guest_cart.SIGNED_IN_BUYER
    if buyer:
        items = CartItem.objects.filter(cart__buyer_id=buyer["id"])
    else:
        items = CartItem.objects.filter(cart__session_key=key)
    units = items.aggregate(units=Sum("quantity"))["units"]
    return int(units or 0)


@register.simple_tag(takes_context=True)
def shop_buyer(context: Any) -> dict[str, Any] | None:
    """The buyer signed in on this store's host, for the header ("Signed in as ...")."""
    session = getattr(context.get("request"), "session", None)
    return session.get("shop_buyer") if session is not None and session.session_key else None


@register.simple_tag(takes_context=True)
def buyer_sign_in_url(context: Any) -> str:
    """Buyers sign in on the root domain, which brings them back signed in to this store's page."""
    request = context.get("request")
    here = request.get_full_path() if request is not None and request.method == "GET" else ""
    return sign_in_url(request, here)


def sign_in_url(request: Any, next_path: str = "") -> str:
    """The root's sign-in for this store, returning to `next_path` on its host (the cart without one)."""
    tenant = getattr(request, "tenant", None)
    slug = str(getattr(tenant, "slug", "") or "")
    params = {"store": slug} if slug else {}
    if slug and next_path.startswith("/") and not next_path.startswith("//"):
        params["next"] = next_path[:200]
    return f"{platform_url()}buyers/sign-in/" + (f"?{urlencode(params)}" if params else "")
