"""A buyer signed in on a store's host: the landing of the root domain's sign-in (storefront.buyers.web) and
signing out. The buyer is kept in this host's session (guest_cart.sign_in), and what they put in the cart
as a guest joins their own cart here."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from storefront.buyers import services
from storefront.shop import guest_cart
from storefront.shop.cart_views import SeeOther
from tenants.handoff import redeem_handoff_token


# No CSRF cookie of the store's host exists yet: the token is the proof (signed, for this store and for
# buyers only, single-use, two minutes). GET is refused, so a token in a URL is never redeemed.
@csrf_exempt
@require_POST
@never_cache
def handoff(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    buyer_id = redeem_handoff_token(str(request.POST.get("token", "")), tenant.slug, purpose="buyer")
    buyer = services.active_buyer(buyer_id) if buyer_id else None
    if buyer is None:
        messages.error(request, "That sign-in link has expired or was used already: please sign in again.")
        return SeeOther("/cart/")
    guest_cart.sign_in(request, buyer)
    messages.success(request, f"Signed in as {buyer.email}.")
    return SeeOther(_this_stores_page(request, str(request.POST.get("next", ""))) or "/cart/")


def _this_stores_page(request: HttpRequest, path: str) -> str | None:
    """`path` if it is a page of this store's host (where the sign-in was asked for), else None."""
    if path.startswith("/") and url_has_allowed_host_and_scheme(path, {request.get_host()}, request.is_secure()):
        return path
    return None


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Out of this store's host: its session ends (the buyer's cart stays theirs for next time)."""
    request.session.flush()
    messages.success(request, "You are signed out.")
    return SeeOther("/cart/")
