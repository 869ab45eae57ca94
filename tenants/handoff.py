"""Single-use, short-lived tokens that carry a freshly signed-up owner from the root domain onto their
store's host already logged in (cookies never cross hosts, so the session can't travel itself). The token
travels in a POST body, never in a URL, so no access log or Referer header holds it."""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.cache import caches

MAX_AGE_SECONDS = 120
_SALT = "tenants.handoff"


def make_handoff_token(tenant_slug: str, user_id: int) -> str:
    return signing.dumps({"t": tenant_slug, "u": user_id, "n": secrets.token_hex(8)}, salt=_SALT)


def redeem_handoff_token(token: str, tenant_slug: str) -> int | None:
    """The user id the token was made for, once, on the store it was made for; else None."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if payload.get("t") != tenant_slug:
        return None
    # add() is atomic: only the first redemption of this nonce succeeds.
    if not caches["routing"].add(f"handoff-used:{payload['n']}", 1, MAX_AGE_SECONDS * 2):
        return None
    return int(payload["u"])
