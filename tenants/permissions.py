"""Who may do what, in one place: a store's members and its owner on the store's own host, and platform
staff (by their platform role, never by Django's `is_staff`, which every store owner carries) on the root
host of the shared platform. API views use the DRF classes, pages the decorator."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import reverse
from django_tenants.utils import get_public_schema_name
from rest_framework import permissions

from tenants.accounts.authentication import BearerTokenAuthentication
from tenants.accounts.models import Membership, User
from tenants.db_backend import connection
from tenants.models import PlatformRole

Role = PlatformRole.Role


def on_root_host() -> bool:
    """The request is served from `public` of the shared platform (its root domain), not a store."""
    return settings.TENANCY_MODE == "shared" and getattr(connection, "schema_name", None) == get_public_schema_name()


def platform_role(user: Any) -> str | None:
    """The platform role of `user` on the shared platform's root host, or None (anywhere else: None)."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff) or not on_root_host():
        return None
    if not hasattr(user, "_platform_role"):
        user._platform_role = PlatformRole.objects.filter(user_id=user.pk).values_list("role", flat=True).first()
    role: str | None = user._platform_role
    return role


def is_platform_staff(user: Any, *, operator: bool = False) -> bool:
    role = platform_role(user)
    if role is None:
        return False
    return role == Role.OPERATOR or not operator


def is_store_member(user: Any) -> bool:
    """The owner or staff of the store whose host serves the request. Only a store `User` can be: a
    buyer's id is no member's id, whatever its number."""
    if not (isinstance(user, User) and user.is_authenticated) or on_root_host():
        return False
    return Membership.objects.filter(user=user).exists()


def is_store_owner(user: Any) -> bool:
    if not (isinstance(user, User) and user.is_authenticated) or on_root_host():
        return False
    return Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists()


def grant_platform_role(user: Any, role: str) -> PlatformRole:
    """Make `user` (of the platform's `public` schema) platform staff with `role`."""
    if role not in Role.values:
        raise ValueError(f"Unknown platform role '{role}'; choose one of {', '.join(Role.values)}.")
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    granted, _ = PlatformRole.objects.update_or_create(user=user, defaults={"role": role})
    return granted


class IsStoreMember(permissions.BasePermission):
    message = "Only this store's staff may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if on_root_host() or not (request.user and request.user.is_authenticated):
            return False
        # A bearer token is only accepted from a member of this host (user_for_token checks it), so
        # asking again would cost every API request a second membership query; sessions are checked.
        if isinstance(request.successful_authenticator, BearerTokenAuthentication):
            return True
        return is_store_member(request.user)


class IsStoreOwner(permissions.BasePermission):
    """The owner membership of the store whose schema serves the request. Accounts live in each store's
    schema, so another store's token never authenticates here at all (401); staff are not owners (403)."""

    message = "Only the store's owner may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_store_owner(request.user)


class IsPlatformStaff(permissions.BasePermission):
    message = "Only platform staff may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_platform_staff(request.user)


class IsPlatformOperator(permissions.BasePermission):
    """Suspending, deprovisioning, dropping an upgraded store's schema: the operator role only."""

    message = "Only platform operators may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_platform_staff(request.user, operator=True)


def platform_staff_required(*, operator: bool = False) -> Callable[[Callable[..., HttpResponse]], Any]:
    """For console pages: anonymous visitors go to the platform admin's login; logged-in users without the
    role get 403."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("platform_admin:login"))
            if not is_platform_staff(request.user, operator=operator):
                needed = "a platform operator" if operator else "platform staff"
                return HttpResponseForbidden(f"Only {needed} may do this.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
