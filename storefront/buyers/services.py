"""Buyer accounts: registration, tokens, and who a buyer's token belongs to on any store host."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from storefront.buyers import control_plane
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
