"""The store host's pages behind a store user's verification link (tenants.accounts.email_verification):
opening the link, which needs no login (the link is the proof), and asking for a new one, which does."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tenants.accounts import email_verification
from tenants.throttling import throttled


def _may_use_the_admin(request: HttpRequest) -> bool:
    return request.user.is_authenticated and admin.site.has_permission(request)


@never_cache
@require_GET
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    link = email_verification.read_verification_token(token)
    user = email_verification.verify_email(link) if link is not None else None
    if user is not None:
        return render(request, "accounts/email_verified.html", {"verified_user": user, "title": "Email verified"})
    context = {
        "expired": link is not None and link.expired,
        "may_send": _may_use_the_admin(request),
        "title": "This link does not work",
    }
    return render(request, "accounts/email_link_refused.html", context, status=400)


@never_cache
@throttled("auth")
@require_POST
def send_verification_link(request: HttpRequest) -> HttpResponse:
    """A new link for the member logged in to this store's admin, mailed for the host they asked on."""
    admin_index = reverse("admin:index")
    if not _may_use_the_admin(request):
        return redirect_to_login(admin_index, reverse("admin:login"))
    user = request.user
    if email_verification.send_verification_link(user, email_verification.site_url_of(request)):  # type: ignore[arg-type]
        messages.success(request, f"A new link is on its way to {user.email}.")  # type: ignore[union-attr]
    else:
        messages.info(request, "Your email address is verified already.")
    return HttpResponseRedirect(admin_index)
