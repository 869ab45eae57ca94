"""Single-use, short-lived tokens that carry a freshly signed-up owner from the root domain onto their
store's host already logged in (cookies never cross hosts, so the session can't travel itself). The token
travels in a POST body, never in a URL, so no access log or Referer header holds it."""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.cache import caches

MAX_AGE_SECONDS = 120
_SALT = "tenants.handoff"


def _salt(purpose: str) -> str:
    # Each purpose signs with its own salt: a buyer's link never logs anyone into a store's admin.
    return _SALT if purpose == "login" else f"{_SALT}.{purpose}"


def make_handoff_token(tenant_slug: str, user_id: int, *, purpose: str = "login") -> str:
    """`purpose` "login": a store member (user id) into the admin; "buyer": a buyer (id) onto the store's pages."""
    return signing.dumps({"t": tenant_slug, "u": user_id, "n": secrets.token_hex(8)}, salt=_salt(purpose))


def redeem_handoff_token(token: str, tenant_slug: str, *, purpose: str = "login") -> int | None:
    """The id the token was made for, once, on the store it was made for, for that purpose; else None."""
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if payload.get("t") != tenant_slug:
        return None
    # add() is atomic: only the first redemption of this nonce succeeds.
    if not caches["routing"].add(f"handoff-used:{payload['n']}", 1, MAX_AGE_SECONDS * 2):
        return None
    return int(payload["u"])
