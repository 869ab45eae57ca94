"""A dedicated store's stack calling the platform's control plane (publishing listings and orders,
forwarding usage, checking a buyer's token): a JSON POST with the store's publishing token, over http(s)
to the operator's MARKETPLACE_API_URL. Each caller decides what a refusal means to it."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


class PlatformRefused(Exception):
    """The platform answered, but not 2xx: `status` and (the start of) its `answer`."""

    def __init__(self, status: int, answer: bytes) -> None:
        super().__init__(f"HTTP {status} {answer[:500]!r}")
        self.status = status
        self.answer = answer


class PlatformUnreachable(Exception):
    """No answer at all (refused connection, timeout, DNS, TLS)."""


def post_json(url: str, token: str, payload: Any, *, timeout: float, answer_limit: int = 20_000) -> bytes:
    """POST `payload` as JSON with `token` as bearer; the answer's body when the platform said 2xx."""
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's setting, http(s) only
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read(answer_limit)
    except urllib.error.HTTPError as error:
        raise PlatformRefused(error.code, error.read(answer_limit)) from error
    except OSError as error:
        raise PlatformUnreachable(str(error)) from error
    if not 200 <= status < 300:
        raise PlatformRefused(status, body)
    return bytes(body)


def call_control_plane(path: str, payload: Any, *, timeout: float, answer_limit: int) -> bytes:
    """POST to the control plane's `path` as this stack (MARKETPLACE_API_URL, its MARKETPLACE_PUBLISHING_TOKEN)."""
    base, token = settings.MARKETPLACE_API_URL, settings.MARKETPLACE_PUBLISHING_TOKEN
    if not (base and token):
        raise PlatformUnreachable("MARKETPLACE_API_URL and MARKETPLACE_PUBLISHING_TOKEN are not set on this stack.")
    return post_json(base.rstrip("/") + path, token, payload, timeout=timeout, answer_limit=answer_limit)


def kept_answer(key: str) -> tuple[Any] | None:
    """What `keep_answer` kept under `key` for this stack (`STACK_ID`), wrapped: `(value,)`; None for a miss
    (or a cache outage: the caller then asks the control plane)."""
    try:
        entry = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage makes a miss, not an error
        logger.warning("cache unavailable: asking the control plane", exc_info=True, extra={"key": key})
        return None
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == settings.STACK_ID:
        return (entry[1],)
    return None


def keep_answer(key: str, value: Any, seconds: int) -> None:
    """Keep a control plane's answer for this stack only (another stack sharing the cache never reads it)."""
    try:
        cache.set(key, (settings.STACK_ID, value), seconds)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable: the control plane's answer not kept", exc_info=True, extra={"key": key})
