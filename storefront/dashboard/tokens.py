"""The dashboard's API tokens section, for the store's owner: the store's tokens (prefix, holder, created, last
used), a new one for the owner, shown once on the page that made it and never again (only its digest is kept),
and revoking one, refused from the API's next request on."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from storefront.dashboard.access import owner_required
from tenants.accounts import selectors, services
from tenants.accounts.models import User


# never_cache: no-store, so the page holding a new token is kept by no browser or proxy cache.
@never_cache
@owner_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        new_token = services.issue_api_token(cast(User, request.user))
    context = {"section": "tokens", "tokens": selectors.store_api_tokens(), "new_token": new_token}
    return render(request, "dashboard/tokens.html", context, status=201 if new_token else 200)


@never_cache
@owner_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if services.revoke_api_token(token_id):
        messages.success(request, "Token revoked: it no longer works.")
    else:
        messages.info(request, "That token was already revoked.")
    return redirect("dashboard:tokens")
