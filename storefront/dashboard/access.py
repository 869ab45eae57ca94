"""Who may use the merchant dashboard: a member (owner or staff) of the store whose host serves it, signed in
with the store's own login. Anyone else signed out is sent to that login; a signed-in non-member gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from tenants.permissions import is_store_member, is_store_owner

LOGIN_URL = "/admin/login/"


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        if not is_store_member(request.user):
            return HttpResponseForbidden("Only this store's owner and staff use its dashboard.")
        return view(request, *args, **kwargs)

    return wrapped


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For what only the owner decides (staff and roles, API tokens, the plan)."""

    @wraps(view)
    @member_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_store_owner(request.user):
            return HttpResponseForbidden("Only the store's owner may do this.")
        return view(request, *args, **kwargs)

    return wrapped
