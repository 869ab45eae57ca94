"""The signed links mailed to a buyer, both opened on the root domain:

- email verification: `django.core.signing` with its own salt (a link made for anything else never verifies
  an address), naming the buyer and the address it was sent to (so it cannot verify an address the account
  no longer has), valid for VERIFICATION_DAYS;
- password reset: Django's PasswordResetTokenGenerator over the buyer's password hash, so the link stops
  working once it has been used (the hash changes) and after PASSWORD_RESET_TIMEOUT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from storefront.buyers.models import Buyer

VERIFICATION_DAYS = 3
_VERIFICATION_SALT = "storefront.buyers.verify-email"


@dataclass(frozen=True)
class VerificationLink:
    """What a verification token names, once its signature is known to be ours."""

    buyer_id: int
    email: str
    expired: bool


def make_verification_token(buyer: Buyer) -> str:
    return signing.dumps({"b": buyer.pk, "e": buyer.email}, salt=_VERIFICATION_SALT)


def read_verification_token(token: str) -> VerificationLink | None:
    """The buyer and address a genuine token names (expired or not: an expired link can still ask for a
    new one to be sent to that buyer), or None for a forged or mangled one."""
    try:
        payload = signing.loads(token, salt=_VERIFICATION_SALT, max_age=timedelta(days=VERIFICATION_DAYS))
        expired = False
    except signing.SignatureExpired:
        payload, expired = signing.loads(token, salt=_VERIFICATION_SALT), True
    except signing.BadSignature:
        return None
    try:
        return VerificationLink(int(payload["b"]), str(payload["e"]), expired)
    except (KeyError, TypeError, ValueError):
        return None


class BuyerPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset tokens for a Buyer (no last_login, no AbstractBaseUser): the hash covers the password
    hash, so a used link is dead, and the address, so a link does not outlive an address change."""

    key_salt = "storefront.buyers.links.BuyerPasswordResetTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{user.pk}{user.password}{timestamp}{user.email}{user.is_active}"

    # Django's signatures name its user model; a Buyer has every attribute the hash reads.
    def make_token(self, user: Any) -> str:
        return super().make_token(user)

    def check_token(self, user: Any, token: str | None) -> bool:
        return super().check_token(user, token)


password_reset_tokens = BuyerPasswordResetTokenGenerator()


def reset_uid(buyer: Buyer) -> str:
    return urlsafe_base64_encode(force_bytes(buyer.pk))


def buyer_id_from_reset_uid(uid: str) -> int | None:
    try:
        return int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
