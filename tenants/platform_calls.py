"""A dedicated store's stack calling the platform's control plane (publishing listings and orders,
forwarding usage, checking a buyer's token): a JSON POST with the store's publishing token, over http(s)
to the operator's MARKETPLACE_API_URL. Each caller decides what a refusal means to it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


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
