"""Buyer accounts: registration, tokens, and who a buyer's token belongs to on any store host."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from storefront.buyers import control_plane, links, notifications
from storefront.buyers.models import Buyer, BuyerToken
from tenants.db_backend import connection

TOKEN_PREFIX = "lbb_"
_TABLES = {"buyer": Buyer._meta.db_table, "token": BuyerToken._meta.db_table}


@dataclass(frozen=True)
class BuyerPrincipal:
    """The buyer a request is made by. Deliberately not a store `User`: a buyer's id must never be
    mistaken for a store member's (both are small integers), so every staff check refuses it."""

    id: int
    email: str
    name: str

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    @property
    def pk(self) -> int:
        return self.id


class BuyerRefused(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        self.errors = errors


def register_buyer(email: str, password: str, name: str = "") -> Buyer:
    email = email.strip()
    try:
        validate_password(password)
    except ValidationError as error:
        raise BuyerRefused({"password": list(error.messages)}) from error
    buyer = Buyer(email=email, name=name.strip())
    buyer.set_password(password)
    try:
        with transaction.atomic():
            buyer.save()
    except IntegrityError as error:
        raise BuyerRefused({"email": ["A buyer account with this email already exists."]}) from error
    transaction.on_commit(lambda: notifications.send_verification_mail(buyer))
    return buyer


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_buyer_token(buyer: Buyer) -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    BuyerToken.objects.create(buyer=buyer, digest=_digest(raw), prefix=raw[:10])
    return raw


def buyer_for_credentials(email: str, password: str) -> Buyer | None:
    buyer = Buyer.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if buyer is None or not buyer.check_password(password):
        return None
    return buyer


def is_buyer_token(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX)


def buyer_for_token(raw: str) -> BuyerPrincipal | None:
    """The active buyer holding `raw`, on any host. A dedicated stack's database has no buyers: there the
    control plane is asked (`control_plane.remote_buyer`; ControlPlaneUnavailable if it cannot answer)."""
    if settings.TENANCY_MODE == "dedicated":
        found = control_plane.remote_buyer(_digest(raw))
        return BuyerPrincipal(*found) if found else None
    return buyer_for_digest(_digest(raw))


def buyer_for_digest(digest: str) -> BuyerPrincipal | None:
    """The active buyer whose token's SHA-256 is `digest`, in the control plane. One query, schema-qualified:
    on a store host the request's search path starts with the store's schema, and buyers live in `public`."""
    return _one_buyer(
        f'SELECT b.id, b.email, b.name FROM public."{_TABLES["token"]}" t'
        f' JOIN public."{_TABLES["buyer"]}" b ON b.id = t.buyer_id WHERE t.digest = %s AND b.is_active',
        [digest],
    )


def active_buyer(buyer_id: int) -> BuyerPrincipal | None:
    """The buyer with this id if their account is active, on any host (schema-qualified, as above)."""
    return _one_buyer(
        f'SELECT id, email, name FROM public."{_TABLES["buyer"]}" WHERE id = %s AND is_active', [buyer_id]
    )


def _one_buyer(sql: str, params: list[object]) -> BuyerPrincipal | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return BuyerPrincipal(*row) if row else None


def buyer_principal(buyer: Buyer) -> BuyerPrincipal:
    return BuyerPrincipal(buyer.pk, buyer.email, buyer.name)


def active_buyer_account(buyer_id: int) -> Buyer | None:
    """The active Buyer row with this id, on the root host (where `public` is the search path)."""
    return Buyer.objects.filter(pk=buyer_id, is_active=True).first()


def session_auth_hash(buyer: Buyer) -> str:
    """Kept in the root's session at sign-in: a new password changes it, which signs every other session out
    (as Django's own session auth hash does for users)."""
    return salted_hmac("storefront.buyers.session", buyer.password, algorithm="sha256").hexdigest()


# Email verification. Unverified buyers shop as everyone else: verification only marks the address as theirs.


def verify_email(link: links.VerificationLink) -> Buyer | None:
    """Mark the address the (unexpired) link was sent to as verified; None if the account is closed or has
    another address now. Opening the link again is harmless: the first time is kept."""
    buyer = Buyer.objects.filter(pk=link.buyer_id, is_active=True, email__iexact=link.email).first()
    if buyer is not None and buyer.email_verified_at is None:
        buyer.email_verified_at = timezone.now()
        Buyer.objects.filter(pk=buyer.pk, email_verified_at__isnull=True).update(
            email_verified_at=buyer.email_verified_at
        )
    return buyer


def send_new_verification_link(buyer_id: int) -> bool:
    """Mail a fresh link to an active buyer whose address is not verified yet; False when none is needed."""
    buyer = Buyer.objects.filter(pk=buyer_id, is_active=True, email_verified_at__isnull=True).first()
    if buyer is None:
        return False
    transaction.on_commit(lambda: notifications.send_verification_mail(buyer))
    return True


# Passwords: reset by a mailed link, or changed knowing the current one.


def request_password_reset(email: str) -> None:
    """Mail a reset link if an active buyer has this address. Says nothing either way (callers give the
    same answer whether or not there is an account, so nobody learns who shops here)."""
    buyer = Buyer.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if buyer is not None:
        notifications.send_password_reset_mail(buyer)


def buyer_for_reset_link(uid: str, token: str) -> Buyer | None:
    """The active buyer a password reset link was made for, while it is unused and unexpired."""
    buyer_id = links.buyer_id_from_reset_uid(uid)
    buyer = Buyer.objects.filter(pk=buyer_id, is_active=True).first() if buyer_id else None
    return buyer if buyer is not None and links.password_reset_tokens.check_token(buyer, token) else None


def _set_new_password(buyer: Buyer, new_password: str, field: str) -> None:
    try:
        # The validators read the account's attributes (its email, for similarity): a Buyer has them.
        validate_password(new_password, cast(Any, buyer))
    except ValidationError as error:
        raise BuyerRefused({field: list(error.messages)}) from error
    buyer.set_password(new_password)


@transaction.atomic
def reset_password(buyer: Buyer, new_password: str) -> None:
    """Set a new password from a reset link. The link dies with the old hash; every token the buyer's apps
    hold is revoked (whoever forgot or lost the password may have lost a device too); and the address is
    verified, since the link reached it."""
    _set_new_password(buyer, new_password, "new_password")
    buyer.email_verified_at = buyer.email_verified_at or timezone.now()
    buyer.save(update_fields=["password", "email_verified_at"])
    BuyerToken.objects.filter(buyer=buyer).delete()


def change_password(buyer: Buyer, current_password: str, new_password: str) -> None:
    if not buyer.check_password(current_password):
        raise BuyerRefused({"current_password": ["That is not your current password."]})
    _set_new_password(buyer, new_password, "new_password")
    buyer.save(update_fields=["password"])


# The profile.

# A UK postcode, or just its outward code ("HX7 8AD", "hx78ad", "HX7"), as the marketplace's place search
# reads them (storefront.marketplace.search_terms).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})?$")


def normalised_postcode(text: str) -> str:
    """`text` as a UK postcode is written ("hx7  8ad" -> "HX7 8AD"), "" for blank; ValueError otherwise."""
    compact = " ".join(text.upper().split())
    if not compact:
        return ""
    match = _POSTCODE.match(compact)
    if match is None:
        raise ValueError(text)
    return " ".join(part for part in match.groups() if part)


def update_profile(
    buyer: Buyer, *, name: str | None = None, town: str | None = None, postcode: str | None = None
) -> Buyer:
    """Change what is given of the buyer's name, town and postcode (blank clears it)."""
    changed: list[str] = []
    if postcode is not None:
        try:
            buyer.postcode = normalised_postcode(postcode)
        except ValueError as error:
            raise BuyerRefused({"postcode": ["Enter a UK postcode, like HX7 8AD (or just HX7)."]}) from error
        changed.append("postcode")
    if name is not None:
        buyer.name = name.strip()
        changed.append("name")
    if town is not None:
        buyer.town = town.strip()
        changed.append("town")
    if changed:
        buyer.save(update_fields=changed)
    return buyer


@transaction.atomic
def close_account(buyer: Buyer, password: str) -> None:
    """Close the account for good, on the buyer's word (their password). The row stays, deactivated and
    emptied of who they were, because stores keep the buyer's id on their orders (their own copies of the
    order's name and address stay with the store, as its records); the address is free to sign up again."""
    if not buyer.check_password(password):
        raise BuyerRefused({"password": ["That is not your password."]})
    buyer.email = f"deleted-{buyer.pk}@deleted.invalid"
    buyer.name = buyer.town = buyer.postcode = ""
    buyer.password = make_password(None)
    buyer.is_active = False
    buyer.email_verified_at = None
    buyer.save(update_fields=["email", "name", "town", "postcode", "password", "is_active", "email_verified_at"])
    BuyerToken.objects.filter(buyer=buyer).delete()
    for hook in _closing_hooks:
        hook(buyer.pk)


# What else goes with a closed account, in its transaction (registered by the apps that keep a buyer's data
# in `public`: their order history).
_closing_hooks: list[Callable[[int], None]] = []


def on_account_closed(hook: Callable[[int], None]) -> None:
    if hook not in _closing_hooks:
        _closing_hooks.append(hook)
