"""A buyer's own account page on the root domain, `/buyers/me/`: their details (name, town, postcode),
whether their address is verified, a new password, signing out of the root, and closing the account. Each
form posts to its own address and comes back to the page, with the problems shown beside the form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from storefront.buyers import services
from storefront.buyers.forms import CloseAccountForm, PasswordChangeForm, ProfileForm, add_refusal_errors
from storefront.buyers.models import Buyer
from storefront.buyers.web import SeeOther, keep_signed_in_after_password_change, root_buyer_account
from tenants.throttling import throttled


def _to_sign_in() -> HttpResponse:
    return SeeOther(f"{reverse('buyer-sign-in')}?{urlencode({'next': reverse('buyer-profile')})}")


def _page(
    request: HttpRequest,
    account: Buyer,
    *,
    details: forms.Form | None = None,
    password: forms.Form | None = None,
    close: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    initial = {"name": account.name, "town": account.town, "postcode": account.postcode}
    context = {
        "buyer": account,
        "details_form": details or ProfileForm(initial=initial),
        "password_form": password or PasswordChangeForm(),
        "close_form": close or CloseAccountForm(),
    }
    return render(request, "buyers/profile.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    account = root_buyer_account(request)
    if account is None:
        return _to_sign_in()
    if request.method != "POST":
        return _page(request, account)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.update_profile(account, **form.cleaned_data)
        except services.BuyerRefused as error:
            add_refusal_errors(form, error)
        else:
            messages.success(request, "Your details are saved.")
            return SeeOther(reverse("buyer-profile"))
    return _page(request, account, details=form, status=400)


@never_cache
@throttled("auth")
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    account = root_buyer_account(request)
    if account is None:
        return _to_sign_in()
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.change_password(account, data["current_password"], data["new_password"])
        except services.BuyerRefused as error:
            add_refusal_errors(form, error)
        else:
            keep_signed_in_after_password_change(request, account)
            messages.success(request, "Your password is changed. Other browsers signed in here are signed out.")
            return SeeOther(reverse("buyer-profile"))
    return _page(request, account, password=form, status=400)


@never_cache
@throttled("auth")
@require_POST
def close_account(request: HttpRequest) -> HttpResponse:
    account = root_buyer_account(request)
    if account is None:
        return _to_sign_in()
    form = CloseAccountForm(request.POST)
    if form.is_valid():
        try:
            services.close_account(account, form.cleaned_data["password"])
        except services.BuyerRefused as error:
            add_refusal_errors(form, error)
        else:
            request.session.flush()
            return render(request, "buyers/account_closed.html")
    return _page(request, account, close=form, status=400)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Out of the root domain: its session ends (each store's host keeps its own, signed out there)."""
    request.session.flush()
    messages.success(request, "You are signed out.")
    return SeeOther(reverse("buyer-sign-in"))
