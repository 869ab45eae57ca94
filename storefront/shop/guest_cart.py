"""A visitor's cart on a store's web pages: a guest's browser session owns the cart, or the buyer signed
in on this host's session does (storefront.orders.services). The session remembers the orders it placed,
which (with a signed-in buyer's own) are the only orders its confirmation pages show, and what paying for
its card orders needs (each PaymentIntent's client secret, kept server-side in the session)."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest

from storefront.buyers.services import BuyerPrincipal, active_buyer
from storefront.catalog.models import Product
from storefront.orders import services

PLACED_ORDERS = "shop_placed_orders"
CARD_PAYMENTS = "shop_card_payments"
SIGNED_IN_BUYER = "shop_buyer"
# Enough for any buyer's recent orders; the session stays small.
PLACED_ORDERS_KEPT = 50


def signed_in_buyer(request: HttpRequest) -> dict[str, Any] | None:
    """The buyer signed in on this store's host (storefront.buyers.web), as {"id", "email", "name"}."""
    buyer: dict[str, Any] | None = request.session.get(SIGNED_IN_BUYER)
    return buyer


def still_signed_in(request: HttpRequest) -> BuyerPrincipal | None:
    """The signed-in buyer, asked again of the control plane before what acts in their name (checking out,
    writing to the store): an account closed since ends this host's session, and None is returned."""
    signed_in = signed_in_buyer(request)
    if not signed_in:
        return None
    buyer = active_buyer(int(signed_in["id"]))
    if buyer is None:
        request.session.flush()
    return buyer


def sign_in(request: HttpRequest, buyer: BuyerPrincipal) -> None:
    """The buyer now shops signed in on this host: a new session key (the old one may have been seen by
    someone else), and what they put in the cart as a guest joins their own cart."""
    guest_key = request.session.session_key
    request.session.cycle_key()
    request.session[SIGNED_IN_BUYER] = {"id": buyer.id, "email": buyer.email, "name": buyer.name}
    if guest_key:
        services.merge_guest_cart(guest_key, buyer.id)


def session_owner(request: HttpRequest) -> services.CartOwner | None:
    """The session's cart owner (its signed-in buyer, or the guest session itself), or None for a visitor
    without a session (who has no cart)."""
    session: SessionBase = request.session
    # Reading the session loads it: a cookie naming no live session (expired, made up) loses its key
    # here, instead of owning a cart under a key the server never gave.
    buyer = session.get(SIGNED_IN_BUYER)
    if buyer:
        return services.CartOwner(buyer_id=buyer["id"])
    key = session.session_key
    return services.CartOwner(session_key=key) if key else None


def session_owner_made(request: HttpRequest) -> services.CartOwner:
    """The session's cart owner, starting a session for a visitor who has none yet."""
    owner = session_owner(request)
    if owner is not None:
        return owner
    request.session.save()
    # save() alone sends no cookie: the middleware sets one for a session it sees modified.
    request.session.modified = True
    return services.CartOwner(session_key=request.session.session_key)


def remember_order(request: HttpRequest, number: str) -> None:
    placed = [n for n in request.session.get(PLACED_ORDERS, []) if n != number]
    request.session[PLACED_ORDERS] = [*placed, number][-PLACED_ORDERS_KEPT:]


def placed_in_session(request: HttpRequest, number: str) -> bool:
    return number in request.session.get(PLACED_ORDERS, [])


def remember_card_payment(request: HttpRequest, number: str, payment: dict[str, str]) -> None:
    """What the order's payment page hands Stripe.js: the client secret is per order and may confirm its
    payment, so only the session that placed the order holds it (never a URL, a cookie or a log)."""
    kept = {n: p for n, p in request.session.get(CARD_PAYMENTS, {}).items() if n != number}
    kept[number] = {key: payment[key] for key in ("client_secret", "account", "publishable_key")}
    request.session[CARD_PAYMENTS] = dict(list(kept.items())[-PLACED_ORDERS_KEPT:])


def card_payment(request: HttpRequest, number: str) -> dict[str, str] | None:
    payment: dict[str, str] | None = request.session.get(CARD_PAYMENTS, {}).get(number)
    return payment


def forget_card_payment(request: HttpRequest, number: str) -> None:
    """The order no longer waits for its payment: its secret has no more use here."""
    payments = request.session.get(CARD_PAYMENTS, {})
    if number in payments:
        request.session[CARD_PAYMENTS] = {n: p for n, p in payments.items() if n != number}


def add_what_is_left(owner: services.CartOwner, product: Product, quantity: int) -> None:
    """Add to the cart no more than is left to sell now (stock - allocated). Checkout counts again
    under its locks: this only spares the buyer a cart that cannot be checked out."""
    left = product.unallocated
    if left <= 0:
        raise services.OrderRefused({"quantity": [f"'{product.title}' is sold out."]})
    if quantity > left:
        raise services.OrderRefused({"quantity": [f"Only {left} of '{product.title}' left."]})
    services.add_to_cart(owner, product.pk, quantity)
