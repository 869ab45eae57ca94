"""A dedicated stack asking the control plane who holds a buyer token. Buyers are marketplace-wide and live
in the platform's `public`; a stack's own database has none. The stack posts the token's SHA-256 (never the
token) to `POST <MARKETPLACE_API_URL>/api/v1/buyers/token/check` with its publishing token, the store-bound
credential it already holds for the marketplace (storefront.buyers.api.BuyerTokenCheckView).

A good answer is cached on the stack for CACHE_SECONDS, keyed by the digest: a buyer's requests then cost
no round trip, and a revoked token or closed account is refused within that time. The entry records the
stack it was made on (`STACK_ID`, also the end of every key prefix) and is a miss anywhere else, so it can
never be read as the platform's, even on a shared Redis with a misconfigured prefix. Unknown tokens are not
cached: a token issued a moment ago works at once.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.cache import cache

from tenants.platform_calls import PlatformRefused, PlatformUnreachable, post_json

logger = logging.getLogger(__name__)

CHECK_PATH = "/api/v1/buyers/token/check"
CACHE_SECONDS = 60
TIMEOUT_SECONDS = 5.0


class ControlPlaneUnavailable(Exception):
    """The control plane could not say who holds the token (unreachable, not configured, or refusing this
    stack's own credential): the buyer is neither signed in nor refused."""


def _cache_key(digest: str) -> str:
    return f"buyers:token-check:{digest}"


def remote_buyer(digest: str) -> tuple[int, str, str] | None:
    """(id, email, name) of the active buyer whose token's SHA-256 is `digest`, or None if there is none."""
    try:
        cached = cache.get(_cache_key(digest))
    except Exception:  # noqa: BLE001 - a cache outage makes a miss, not an error
        logger.warning("cache unavailable: asking the control plane", exc_info=True)
        cached = None
    if isinstance(cached, tuple) and len(cached) == 4 and cached[0] == settings.STACK_ID:
        return int(cached[1]), str(cached[2]), str(cached[3])
    found = _ask(digest)
    if found is not None:
        try:
            cache.set(_cache_key(digest), (settings.STACK_ID, *found), CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable: buyer check not cached", exc_info=True)
    return found


def _ask(digest: str) -> tuple[int, str, str] | None:
    base, token = settings.MARKETPLACE_API_URL, settings.MARKETPLACE_PUBLISHING_TOKEN
    if not (base and token):
        raise ControlPlaneUnavailable("MARKETPLACE_API_URL and MARKETPLACE_PUBLISHING_TOKEN are not set on this stack.")
    try:
        body = json.loads(post_json(base.rstrip("/") + CHECK_PATH, token, {"digest": digest}, timeout=TIMEOUT_SECONDS))
        return int(body["id"]), str(body["email"]), str(body.get("name") or "")
    except PlatformRefused as error:
        if error.status == 404:
            return None  # the control plane knows no active buyer with that token
        # 401/403: the stack's own publishing token is wrong or not a dedicated store's; 5xx: its trouble.
        raise ControlPlaneUnavailable(f"the control plane refused the check: HTTP {error.status}") from error
    except (PlatformUnreachable, ValueError, KeyError, TypeError) as error:
        raise ControlPlaneUnavailable(f"the control plane did not answer the check: {error}") from error
