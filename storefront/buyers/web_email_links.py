"""The root domain's pages behind the links mailed to a buyer (storefront.buyers.links): verifying their
address, and resetting a forgotten password. Asking for a reset gets the same answer whether or not an
account has that address, so the page tells nobody who shops here."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from storefront.buyers import links, services
from storefront.buyers.forms import NewPasswordForm, PasswordResetRequestForm, add_refusal_errors
from storefront.buyers.web import SeeOther, root_buyer_account
from tenants.throttling import throttled


@never_cache
@require_GET
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    link = links.read_verification_token(token)
    buyer = services.verify_email(link) if link is not None and not link.expired else None
    if buyer is not None:
        return render(request, "buyers/email_verified.html", {"buyer": buyer})
    context = {
        "expired": link is not None and link.expired,
        # A genuine but expired link still says whose it was: its "send a new link" button needs no sign-in.
        "token": token if link is not None else "",
        "signed_in": root_buyer_account(request) is not None,
    }
    return render(request, "buyers/email_link_refused.html", context, status=400)


@never_cache
@throttled("auth")
@require_POST
def send_verification_link(request: HttpRequest) -> HttpResponse:
    """A new verification link, for the buyer signed in here or the one an expired link was made for."""
    account = root_buyer_account(request)
    if account is not None:
        if services.send_new_verification_link(account.pk):
            messages.success(request, f"A new link is on its way to {account.email}.")
        else:
            messages.info(request, "Your email address is verified already.")
        return SeeOther(reverse("buyer-profile"))
    link = links.read_verification_token(str(request.POST.get("token", "")))
    if link is None:
        context = {"expired": False, "token": "", "signed_in": False}
        return render(request, "buyers/email_link_refused.html", context, status=400)
    services.send_new_verification_link(link.buyer_id)
    return render(request, "buyers/verification_link_sent.html")


@never_cache
@throttled("auth")
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "buyers/password_reset.html", {"form": PasswordResetRequestForm()})
    form = PasswordResetRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "buyers/password_reset.html", {"form": form}, status=400)
    services.request_password_reset(form.cleaned_data["email"])
    return SeeOther(reverse("buyer-password-reset-sent"))


@never_cache
@require_GET
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "buyers/password_reset_sent.html")


@never_cache
@throttled("auth")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    buyer = services.buyer_for_reset_link(uid, token)
    if buyer is None:
        return render(request, "buyers/password_reset_confirm.html", {"valid_link": False}, status=400)
    if request.method != "POST":
        return render(request, "buyers/password_reset_confirm.html", {"valid_link": True, "form": NewPasswordForm()})
    form = NewPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.reset_password(buyer, form.cleaned_data["new_password"])
        except services.BuyerRefused as error:
            add_refusal_errors(form, error)
        else:
            messages.success(request, "Your password is changed: sign in with it.")
            return SeeOther(reverse("buyer-sign-in"))
    return render(request, "buyers/password_reset_confirm.html", {"valid_link": True, "form": form}, status=400)
