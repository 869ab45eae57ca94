"""Store and platform accounts: bearer tokens and who may hold one on a host."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from tenants import cache_generations, lifecycle
from tenants.accounts.models import ApiToken, Membership, User
from tenants.advisory_locks import hold_until_commit, store_lock_name
from tenants.db_backend import connection
from tenants.models import PlatformRole, Tenant

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
    # What the token is checked for here: platform staff on the root host, a member on a store host. A
    # check cached for another scope is a miss (cache_generations already misses other stacks and schemas).
    scope = "platform" if _on_root_host() else "store"
    cached, generation = cache_generations.read(ACCOUNTS, digest)
    if not (isinstance(cached, tuple) and len(cached) == 4 and cached[0] == scope):
        cached = None
    if cached is not None:
        _, user, token_id, last_used_at = cached
    else:
        tokens = ApiToken.objects.select_related("user").filter(digest=digest)
        if _on_root_host():
            # Platform staff hold a platform role; `is_staff` alone is what every store owner has too.
            holders: QuerySet[Any] = PlatformRole.objects.filter(user_id=OuterRef("user_id"))
        else:
            holders = Membership.objects.filter(user=OuterRef("user_id"))
        token = tokens.annotate(holder_belongs_here=Exists(holders)).first()
        if token is None or not token.user.is_active:
            return None
        if not token.holder_belongs_here or (_on_root_host() and not token.user.is_staff):  # type: ignore[attr-defined]
            return None
        user, token_id, last_used_at = token.user, token.pk, token.last_used_at
    now = timezone.now()
    # A write on every API request would cost more than the request's own work: record use at
    # minute granularity, which is all "last used" needs.
    if last_used_at is None or now - last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
        last_used_at, cached = now, None
    if cached is None:
        cache_generations.store(
            ACCOUNTS, digest, generation, (scope, user, token_id, last_used_at), TOKEN_CACHE_SECONDS
        )
    return user


def _on_root_host() -> bool:
    # A dedicated stack's store lives in `public` of its own database: it has no root host at all.
    # Without django-tenants' backend (a plain single-tenant deployment) every request is the store's.
    return settings.TENANCY_MODE == "shared" and getattr(connection, "schema_name", None) == get_public_schema_name()


def is_member_here(user: User) -> bool:
    """Store staff on a store host; platform staff (with a platform role) on the root host."""
    if _on_root_host():
        return bool(user.is_staff) and PlatformRole.objects.filter(user_id=user.pk).exists()
    return Membership.objects.filter(user=user).exists()


def log_in_for_token(request: HttpRequest, email: str, password: str) -> str | None:
    """A new bearer token for a member of this host with these credentials, or None."""
    user = authenticate(request, email=email, password=password)
    if user is None or not is_member_here(user):
        return None
    return issue_api_token(user)


class SeatRefused(Exception):
    """A seat guard refused one more staff member; its message says why, in words for the owner."""


# Called with the store's staff seats in use before one more is added; raises SeatRefused (or a subclass)
# to refuse it. Billing (a higher layer) registers its plan limit here when Django starts.
SeatGuard = Callable[[int], None]
_seat_guards: list[SeatGuard] = []


def guard_staff_seats(guard: SeatGuard) -> None:
    if guard not in _seat_guards:
        _seat_guards.append(guard)


def check_staff_seat() -> None:
    """Raise SeatRefused if the store may not add one more staff member now (a form's early answer;
    add_membership checks again under the lock)."""
    seats = Membership.objects.filter(role=Membership.Role.STAFF).count()
    for guard in _seat_guards:
        guard(seats)


def add_membership(user: User, role: str) -> Membership:
    """Make `user` a member of the current store. A staff seat is counted and checked by the seat guards
    under the store's lock for seats, so two additions at the limit cannot both pass."""
    with transaction.atomic():
        if role != Membership.Role.OWNER:
            hold_until_commit(store_lock_name("staff_seats"))
            seats = Membership.objects.filter(role=Membership.Role.STAFF).count()
            for guard in _seat_guards:
                guard(seats)
        return Membership.objects.create(user=user, role=role)


def add_staff_member(
    email: str, password: str | None = None, role: str = Membership.Role.STAFF, *, password_hash: str = ""
) -> User:
    """Give someone a login to the current store with `role`; staff may use the admin and the API.

    `password_hash` (from make_password) may stand in for `password` when it was hashed ahead. Refused
    (by the seat guards, with nothing created) past the plan's staff seats.
    """
    is_owner = role == Membership.Role.OWNER
    with transaction.atomic():
        if password_hash:
            user = User(email=User.objects.normalize_email(email), password=password_hash, is_staff=True)
            user.is_superuser = is_owner
            user.save()
        else:
            user = User.objects.create_user(email, password, is_staff=True, is_superuser=is_owner)
        add_membership(user, role)
    return user


class EmailRefused(Exception):
    """change_email refused; its message says why, in words for the person changing it."""


def _store_owned_by(user: User) -> Tenant | None:
    """The store this host serves, when `user` is its owner (by membership); None on the root host."""
    if _on_root_host() or not Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists():
        return None
    store = getattr(connection, "tenant", None)
    return store if isinstance(store, Tenant) and store.pk is not None else None


def _check_owner_email(store: Tenant | None, email: str) -> None:
    # The registry holds one store per owner's address (any case), as signup does.
    if store is not None and Tenant.objects.filter(owner_email__iexact=email).exclude(pk=store.pk).exists():
        raise EmailRefused("Another store is registered with this email address; choose another.")


def check_email_change(user: User, email: str) -> None:
    """Raise EmailRefused if `user` may not take `email` (a form's early answer; change_email checks again)."""
    _check_owner_email(_store_owned_by(user), User.objects.normalize_email(email))


def change_email(user: User, email: str, *, by: Any) -> User:
    """Give `user` the address `email`. A verification was of the old address, so it is undone; and when `user`
    owns the store this host serves, the registry's copy of the owner's address (Tenant.owner_email, which staff
    search and billing mails) follows in the same transaction. Refused (EmailRefused, nothing changed) when
    another store is registered with that address."""
    email = User.objects.normalize_email(email)
    with transaction.atomic():
        store = _store_owned_by(user)
        _check_owner_email(store, email)
        user.email = email
        user.email_verified_at = None
        user.save(update_fields=["email", "email_verified_at"])
        if store is not None:
            lifecycle.record_owner_email(store, email, by=lifecycle.Actor.user(by))
    return user


class MemberNotRemovable(Exception):
    """remove_staff_member refused; its message says why, in words for the owner."""


def remove_staff_member(user_id: int) -> User:
    """Take a staff member's access to the current store away at once: their membership goes (freeing the
    seat), their login is deactivated and their API tokens deleted. Each of these changes replaces the
    `ACCOUNTS` generation (the signals in `apps.py`), so no cached token check stands: their next API request
    is refused. The owner is never removed."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("user").filter(user_id=user_id).first()
        if membership is None:
            raise MemberNotRemovable("They are not a member of this store.")
        if membership.role == Membership.Role.OWNER:
            raise MemberNotRemovable("The store's owner cannot be removed.")
        user = membership.user
        ApiToken.objects.filter(user=user).delete()
        membership.delete()
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


def revoke_api_token(token_id: int) -> bool:
    """Delete a token of the current store; it is refused from the next request on (the deletion replaces the
    `ACCOUNTS` generation). False when there was no such token."""
    deleted, _ = ApiToken.objects.filter(pk=token_id).delete()
    return deleted > 0
