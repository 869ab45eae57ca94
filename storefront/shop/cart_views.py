"""A guest's cart, checkout and order page on a store's host (which is also where a card order is paid,
with Stripe.js). Thin: parse the form, call the order services with the browser session as the cart's
owner, render or redirect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from storefront.analytics import recording
from storefront.catalog import selectors as catalog
from storefront.catalog.models import Product
from storefront.orders import selectors, services
from storefront.orders.models import Order
from storefront.payments.providers import PaymentFailed, PaymentUnavailable, payment_provider
from storefront.shop import guest_cart
from storefront.shop.checkout_forms import CheckoutForm, QuantityForm
from storefront.shop.views import product_context

RESENT = "This form was sent before with other details: check them and place your order again."
CARD_DOWN = (
    "Card payments are not working just now, so this order was cancelled and nothing was charged. "
    "Please fill your cart again and pay on pickup, or try the card later."
)
# Stripe's redirect back from a payment method that leaves the page (not cards) names these in the URL.
STRIPE_RETURN_SECRETS = ("payment_intent", "payment_intent_client_secret")


class SeeOther(HttpResponseRedirect):
    """After a POST, the page to GET (303): a reload never posts again."""

    status_code = 303


def _messages(errors: Any) -> list[str]:
    """Every message of a form's or a service's errors (field -> messages)."""
    return [str(message) for messages in errors.values() for message in messages]


@require_POST
def add_to_cart(request: HttpRequest, product_id: int) -> HttpResponse:
    product = catalog.buyer_product(product_id)
    if product is None or product.status != Product.Status.ACTIVE:
        raise Http404("No such product in this store.")
    form = QuantityForm(request.POST)
    try:
        if not form.is_valid():
            raise services.OrderRefused({"quantity": _messages(form.errors)})
        quantity = form.cleaned_data["quantity"]
        guest_cart.add_what_is_left(guest_cart.session_owner_made(request), product, quantity)
    except services.OrderRefused as error:
        # The product page again, with what was wrong next to its form.
        context = {**product_context(request, product), "cart_errors": _messages(error.errors)}
        return render(request, "shop/product.html", context, status=400)
    recording.record_add_to_cart(request, product.pk)
    messages.success(request, f"Added {quantity} × {product.title} to your cart.")
    return SeeOther("/cart/")


def cart_page(request: HttpRequest) -> HttpResponse:
    return _cart_page(request)


def _cart_page(request: HttpRequest, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    owner = guest_cart.session_owner(request)
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "cart": selectors.cart_body(owner.carts().first() if owner else None),
        "errors": errors or [],
    }
    return render(request, "shop/cart.html", context, status=status)


def _owner_of_item(request: HttpRequest) -> services.CartOwner:
    owner = guest_cart.session_owner(request)
    if owner is None:
        raise Http404("Your cart is empty.")
    return owner


@require_POST
def change_cart_item(request: HttpRequest, item_id: int) -> HttpResponse:
    form = QuantityForm(request.POST)
    if not form.is_valid():
        return _cart_page(request, _messages(form.errors), status=400)
    try:
        services.change_cart_item(_owner_of_item(request), item_id, form.cleaned_data["quantity"])
    except services.NotFound as error:
        raise Http404(str(error)) from error
    return SeeOther("/cart/")


@require_POST
def remove_cart_item(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        services.remove_cart_item(_owner_of_item(request), item_id)
    except services.NotFound as error:
        raise Http404(str(error)) from error
    return SeeOther("/cart/")


def _takes_cards() -> bool:
    try:
        payment_provider("stripe").check_available()
    except PaymentUnavailable:
        return False
    return True


def checkout_page(request: HttpRequest) -> HttpResponse:
    takes_cards = _takes_cards()
    if request.method != "POST":
        buyer = guest_cart.signed_in_buyer(request) or {}
        blank = CheckoutForm.blank(takes_cards=takes_cards, email=buyer.get("email", ""), name=buyer.get("name", ""))
        return _checkout_page(request, blank)
    form = CheckoutForm(request.POST, takes_cards=takes_cards)
    if not form.is_valid():
        return _checkout_page(request, form, status=400)
    if guest_cart.signed_in_buyer(request) and guest_cart.still_signed_in(request) is None:
        messages.error(request, "You were signed out: your account is closed. Nothing was ordered.")
        return SeeOther("/cart/")
    try:
        checkout = services.place_order(
            guest_cart.session_owner_made(request),
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            fulfilment=form.cleaned_data["fulfilment"],
            address=form.address(),
            payment=form.cleaned_data["payment"],
            idempotency_key=form.cleaned_data["checkout_key"],
            fingerprint=form.fingerprint(),
        )
    except services.OrderRefused as error:
        for field, problems in error.errors.items():
            for problem in problems:
                # The address's problem goes with the address fields; the cart's and others' on top.
                form.add_error("line1" if field == "address" else None, problem)
        return _checkout_page(request, form, status=400)
    except services.SoldOut as error:
        return _checkout_page(request, form, sold_out=error.items, status=409)
    except services.KeyReused:
        # This form was sent before with other answers (back, edit, send again): a fresh one to send.
        answers = {k: v for k, v in form.cleaned_data.items() if k != "checkout_key"}
        fresh = CheckoutForm.blank(takes_cards=takes_cards, **answers)
        return _checkout_page(request, fresh, notice=RESENT, status=409)
    except PaymentFailed:
        form.add_error(None, CARD_DOWN)
        return _checkout_page(request, form, status=502)
    number = checkout.body["order"]["number"]
    guest_cart.remember_order(request, number)
    if checkout.body["payment"].get("client_secret"):
        guest_cart.remember_card_payment(request, number, checkout.body["payment"])
    return SeeOther(f"/orders/{number}/")


def _checkout_page(
    request: HttpRequest,
    form: CheckoutForm,
    *,
    sold_out: list[dict[str, Any]] | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    owner = guest_cart.session_owner(request)
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "cart": selectors.cart_body(owner.carts().first() if owner else None),
        "form": form,
        "sold_out": sold_out or [],
        "notice": notice,
    }
    return render(request, "shop/checkout.html", context, status=status)


def _placed_order(request: HttpRequest, number: str) -> Order:
    # Only the session that placed the order, or the buyer signed in whose order it is, sees it: a number is
    # no secret, and guessing one finds nothing.
    found = selectors.orders().filter(number=number)
    buyer = guest_cart.signed_in_buyer(request)
    if guest_cart.placed_in_session(request, number):
        order = found.first()
    else:
        order = found.filter(buyer_id=buyer["id"]).first() if buyer else None
    if order is None:
        raise Http404("No such order.")
    return order


def order_page(request: HttpRequest, number: str) -> HttpResponse:
    order = _placed_order(request, number)
    if any(name in request.GET for name in STRIPE_RETURN_SECRETS):
        # Keep the client secret out of the address bar and the history; what the redirect said stays.
        query = urlencode({"redirect_status": request.GET.get("redirect_status", "")})
        return SeeOther(f"/orders/{number}/?{query}")
    awaiting = order.status == Order.Status.PENDING_PAYMENT
    # Back from confirming: the payment went through and its webhook is on its way (no second try).
    confirming = awaiting and request.GET.get("redirect_status") in ("succeeded", "processing")
    if not awaiting:
        guest_cart.forget_card_payment(request, number)
    payment = guest_cart.card_payment(request, number) if awaiting and not confirming else None
    context = {
        "store": request.tenant,  # type: ignore[attr-defined]
        "order": selectors.order_body(order),
        "status_label": Order.Status(order.status).label,
        "fulfilment_label": Order.Fulfilment(order.fulfilment).label,
        "awaiting_payment": awaiting,
        "confirming": confirming,
        "card": _card_config(request, number, payment) if payment else None,
        "stripe_js_url": settings.STRIPE_JS_URL,
        # A signed-in buyer's order may be asked about (storefront.shop.message_views).
        "by_buyer": order.buyer_id is not None,
    }
    response = render(request, "shop/order.html", context)
    if payment:
        add_never_cache_headers(response)  # the page carries the payment's client secret
    return response


def _card_config(request: HttpRequest, number: str, payment: dict[str, str]) -> dict[str, str]:
    """What static/storefront/card_payment.js hands Stripe.js: a direct charge on the store's account."""
    return {
        "publishableKey": payment["publishable_key"],
        "account": payment["account"],
        "clientSecret": payment["client_secret"],
        "returnUrl": request.build_absolute_uri(f"/orders/{number}/"),
    }


def order_status(request: HttpRequest, number: str) -> HttpResponse:
    """The order page's status line, polled by htmx while the order awaits its payment; once the webhook
    has moved the order on, the whole page reloads to show what now applies (paid, or cancelled)."""
    order = _placed_order(request, number)
    context = {"order": order, "status_label": Order.Status(order.status).label}
    response = render(request, "shop/_order_status.html", context)
    if order.status != Order.Status.PENDING_PAYMENT:
        response["HX-Refresh"] = "true"
    return response
