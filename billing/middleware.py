"""Counting the API requests a store's host serves, for its `api_requests` usage (billing.api_metering).

Placed after the tenant middlewares: the request's store is the one the connection serves (the root host
has none, and a closed store's refused requests never get here). Only `/api/` requests answered with a
status below 400 count: the store's API served them. A request refused (401, 403, 404, 429...) or failed
(5xx, the platform's fault) is not billed, so nobody can run up a store's bill with requests it refuses.
A dedicated store's requests are counted by its own stack (the platform's proxy answers before this).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from billing.api_metering import count_api_request
from billing.limits import current_store


class ApiRequestMeteringMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        store = current_store() if request.path_info.startswith("/api/") else None
        response = self.get_response(request)
        if store is not None and response.status_code < 400:
            count_api_request(store.pk)
        return response
