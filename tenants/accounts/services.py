"""Store and platform accounts: bearer tokens and who may hold one on a host."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import authenticate
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from billing.limits import check_store_limit
from config.db_backend import connection
from tenants import cache_generations
from tenants.accounts.models import ApiToken, Membership, User

TOKEN_PREFIX = "lb_"
# The cache generation of a schema's accounts, and how long a token found good is trusted at most.
ACCOUNTS = "accounts"
TOKEN_CACHE_SECONDS = 300
LAST_USED_GRANULARITY = timedelta(minutes=1)


def token_digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def issue_api_token(user: User) -> str:
    """Create a bearer token for `user` in the current schema; the raw token is returned once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=token_digest(raw), prefix=raw[:10])
    return raw


def user_for_token(raw_token: str) -> User | None:
    """The active member of this host holding `raw_token`, found with their membership in one query.

    A token found good is cached (per schema) until any user, membership or token of the schema
    changes (`ACCOUNTS` generation, bumped by the signals in `apps.py`), or for TOKEN_CACHE_SECONDS:
    a revoked token, a deactivated user or a removed member is refused on the next request.
    """
    digest = token_digest(raw_token)
    cached, generation = cache_generations.read(ACCOUNTS, digest)
    if cached is not None:
        user, token_id, last_used_at = cached
    else:
        tokens = ApiToken.objects.select_related("user").filter(digest=digest)
        if not _on_root_host():
            tokens = tokens.annotate(holder_is_member=Exists(Membership.objects.filter(user=OuterRef("user_id"))))
        token = tokens.first()
        if token is None or not token.user.is_active:
            return None
        if not (token.user.is_staff if _on_root_host() else token.holder_is_member):  # type: ignore[attr-defined]
            return None
        user, token_id, last_used_at = token.user, token.pk, token.last_used_at
    now = timezone.now()
    # A write on every API request would cost more than the request's own work: record use at
    # minute granularity, which is all "last used" needs.
    if last_used_at is None or now - last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
        last_used_at, cached = now, None
    if cached is None:
        cache_generations.store(ACCOUNTS, digest, generation, (user, token_id, last_used_at), TOKEN_CACHE_SECONDS)
    return user


def _on_root_host() -> bool:
    # Without django-tenants' backend (a plain single-tenant deployment) every request is the store's.
    return getattr(connection, "schema_name", None) == get_public_schema_name()


def is_member_here(user: User) -> bool:
    """Store staff on a store host; platform staff on the root host."""
    if _on_root_host():
        return bool(user.is_staff)
    return Membership.objects.filter(user=user).exists()


def log_in_for_token(request: HttpRequest, email: str, password: str) -> str | None:
    """A new bearer token for a member of this host with these credentials, or None."""
    user = authenticate(request, email=email, password=password)
    if user is None or not is_member_here(user):
        return None
    return issue_api_token(user)


def add_staff_member(
    email: str, password: str | None = None, role: str = Membership.Role.STAFF, *, password_hash: str = ""
) -> User:
    """Give someone a login to the current store with `role`; staff may use the admin and the API.

    `password_hash` (from make_password) may stand in for `password` when it was hashed ahead.
    """
    is_owner = role == Membership.Role.OWNER
    if not is_owner:
        check_store_limit("staff_seats")  # raises PlanLimitReached past the plan's seats
    if password_hash:
        user = User(email=User.objects.normalize_email(email), password=password_hash, is_staff=True)
        user.is_superuser = is_owner
        user.save()
    else:
        user = User.objects.create_user(email, password, is_staff=True, is_superuser=is_owner)
    Membership.objects.create(user=user, role=role)
    return user
