"""Buyers on the web, on the root domain. One account for the whole marketplace, so its password is typed
on one host only: sign-in and sign-up are pages of the root. A buyer reaches a store's pages signed in
through a single-use, two-minute, store-bound link (tenants.handoff, purpose "buyer") POSTed by a
self-submitting form, as a new merchant reaches their admin: cookies stay host-only, the token is never in
a URL. The store's side (redeeming it, signing out) is storefront.shop.account_views.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from storefront.buyers import services
from storefront.buyers.forms import SignInForm, SignUpForm, add_refusal_errors
from storefront.buyers.models import Buyer
from tenants.handoff import make_handoff_token
from tenants.models import Tenant
from tenants.routing import store_url
from tenants.throttling import throttled

ROOT_BUYER = "buyer_id"
ROOT_BUYER_AUTH = "buyer_auth"
WRONG_CREDENTIALS = "That email and password do not match a buyer account."


class SeeOther(HttpResponseRedirect):
    status_code = 303


def _store(slug: str) -> Tenant | None:
    """The open store a sign-in returns to (any other `store` is ignored: the buyer stays on the root)."""
    return Tenant.objects.filter(slug=slug, status=Tenant.Status.ACTIVE).first() if slug else None


def _local_path(request: HttpRequest, path: str) -> str | None:
    """`path` if it is a page of this host (where a sign-in was asked for), else None."""
    if path.startswith("/") and url_has_allowed_host_and_scheme(path, {request.get_host()}, request.is_secure()):
        return path
    return None


def _signed_in(request: HttpRequest, account: Buyer, store: Tenant | None, next_path: str = "") -> HttpResponse:
    """Keep the buyer signed in on the root, then carry them to the store they came from, if any (else to
    the root page that sent them to sign in)."""
    buyer = services.buyer_principal(account)
    request.session.cycle_key()
    request.session[ROOT_BUYER] = buyer.id
    request.session[ROOT_BUYER_AUTH] = services.session_auth_hash(account)
    if store is None:
        messages.success(request, f"Signed in as {buyer.email}.")
        return SeeOther(_local_path(request, next_path) or "/")
    return _handoff(request, buyer, store, next_path)


def _handoff(request: HttpRequest, buyer: services.BuyerPrincipal, store: Tenant, next_path: str = "") -> HttpResponse:
    context = {
        "store": store,
        # A page of the store's host to land on; the store checks it is one of its own paths.
        "next": next_path if next_path.startswith("/") and not next_path.startswith("//") else "",
        "handoff_url": f"{store_url(store.slug)}buyers/handoff/",
        "token": make_handoff_token(store.slug, buyer.id, purpose="buyer"),
    }
    response = render(request, "buyers/handoff.html", context)
    response["Cache-Control"] = "no-store"
    return response


def root_buyer_account(request: HttpRequest) -> Buyer | None:
    """The Buyer signed in on the root domain (its session), if their account is still active and their
    password has not changed since (a new password signs the other sessions out). Asked once a request."""
    if hasattr(request, "_root_buyer_account"):
        return request._root_buyer_account  # type: ignore[no-any-return]
    request._root_buyer_account = account = _signed_in_account(request)  # type: ignore[attr-defined]
    return account


def _signed_in_account(request: HttpRequest) -> Buyer | None:
    buyer_id = request.session.get(ROOT_BUYER)
    buyer = services.active_buyer_account(int(buyer_id)) if buyer_id else None
    if buyer is None or not constant_time_compare(
        str(request.session.get(ROOT_BUYER_AUTH, "")), services.session_auth_hash(buyer)
    ):
        return None
    return buyer


def root_buyer(request: HttpRequest) -> services.BuyerPrincipal | None:
    """The buyer signed in on the root domain, as the principal every buyer page works with."""
    account = root_buyer_account(request)
    return services.buyer_principal(account) if account is not None else None


def keep_signed_in_after_password_change(request: HttpRequest, account: Buyer) -> None:
    """This session stays signed in with the new password; the others are out (root_buyer_account)."""
    request.session.cycle_key()
    request.session[ROOT_BUYER_AUTH] = services.session_auth_hash(account)


@never_cache
@throttled("auth")
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        store = _store(request.GET.get("store", ""))
        buyer = root_buyer(request)
        if buyer is not None and store is not None:
            # Already signed in here: straight back to the store.
            return _handoff(request, buyer, store, request.GET.get("next", "")[:200])
        form = SignInForm(initial={"store": store.slug if store else "", "next": request.GET.get("next", "")})
        return render(request, "buyers/sign_in.html", {"form": form, "store": store})
    form = SignInForm(request.POST)
    store = _store(str(request.POST.get("store", "")))
    if form.is_valid():
        found = services.buyer_for_credentials(form.cleaned_data["email"], form.cleaned_data["password"])
        if found is not None:
            return _signed_in(request, found, store, form.cleaned_data["next"])
        form.add_error(None, WRONG_CREDENTIALS)
    return render(request, "buyers/sign_in.html", {"form": form, "store": store}, status=400)


@never_cache
@throttled("auth")
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        store = _store(request.GET.get("store", ""))
        form = SignUpForm(initial={"store": store.slug if store else "", "next": request.GET.get("next", "")})
        return render(request, "buyers/sign_up.html", {"form": form, "store": store})
    form = SignUpForm(request.POST)
    store = _store(str(request.POST.get("store", "")))
    if form.is_valid():
        data = form.cleaned_data
        try:
            buyer = services.register_buyer(data["email"], data["password"], data["name"])
        except services.BuyerRefused as error:
            add_refusal_errors(form, error)
        else:
            return _signed_in(request, buyer, store, data["next"])
    return render(request, "buyers/sign_up.html", {"form": form, "store": store}, status=400)
