"""Rate limits per client address (tenants.client_address): DRF's scoped throttle for the API, `throttled` for
pages. Both take their rates from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] and share one bucket per scope and
client, so a client cannot double its allowance by switching between a form and its API twin.

Throttling a new surface is one line: `throttle_scope = "auth"` on an API view, `@throttled("auth")` on a page
(the password resets of buyers and of store staff are among them).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from rest_framework.throttling import ScopedRateThrottle

from tenants.client_address import client_ip

View = Callable[..., HttpResponseBase]


class ClientRateThrottle(ScopedRateThrottle):
    """DRF's ScopedRateThrottle, with the client told apart by the address our proxies saw."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


def too_many_attempts(request: HttpRequest, message: str, retry_after_seconds: float | None) -> HttpResponse:
    """The 429 page a throttled or locked-out visitor sees, with Retry-After when the wait is known."""
    response = render(request, "tenants/too_many_attempts.html", {"message": message}, status=429)
    if retry_after_seconds is not None:
        response["Retry-After"] = str(max(1, math.ceil(retry_after_seconds)))
    return response


def throttled(scope: str) -> Callable[[View], View]:
    """Answer 429 to a page's form posts once this client has used up `scope`'s rate; reading the page is free."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def throttled_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "POST":
                throttle = ClientRateThrottle()
                if not throttle.allow_request(request, throttled_view):  # type: ignore[arg-type]
                    return too_many_attempts(
                        request, "Too many attempts from your address. Please wait and try again.", throttle.wait()
                    )
            return view(request, *args, **kwargs)

        # ScopedRateThrottle reads the scope from the view it guards.
        throttled_view.throttle_scope = scope  # type: ignore[attr-defined]
        return throttled_view

    return decorate
