"""The client's address as our trusted proxies saw it: the one identity every throttle and login lockout uses.

Behind NUM_PROXIES reverse proxies (REST_FRAMEWORK["NUM_PROXIES"], from the environment; default 0), the client
is the address the outermost of them appended to X-Forwarded-For, the NUM_PROXIES-th entry from the right.
Everything to the left of it was written by the client and proves nothing. With 0, X-Forwarded-For is ignored
and the client is the peer of the connection (REMOTE_ADDR).
"""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.settings import api_settings


def client_ip(request: HttpRequest) -> str:
    # The same setting DRF's own throttles read, so a stock DRF throttle and ours never disagree.
    num_proxies = api_settings.NUM_PROXIES or 0
    remote_addr = request.META.get("REMOTE_ADDR") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if num_proxies <= 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    # A chain shorter than the proxies we run came past some of them: its leftmost entry is the best we have.
    return hops[-min(num_proxies, len(hops))] or remote_addr
