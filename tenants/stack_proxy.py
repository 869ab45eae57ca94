"""The front proxy for live dedicated stores: this (shared) web process forwards a request for such a
store's host, as it came (method, path, headers, body, the Host itself), to the store's own stack at
`Tenant.upstream_url`, and streams the answer back. The stack is the same code in single-tenant mode on
the store's own database, so nothing of the store is ever read from the shared one. In production the
ingress or DNS sends those hostnames to the stack directly and this path is not taken."""

from __future__ import annotations

from collections.abc import Iterator

import urllib3
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render

from tenants.models import Tenant

# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are never forwarded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer"}
    | {"transfer-encoding", "upgrade"}
)
CHUNK_BYTES = 64 * 1024
BUFFERED_BYTES = 1024 * 1024

_pool = urllib3.PoolManager(num_pools=64, maxsize=8, retries=False)


def is_served_elsewhere(tenant: Tenant) -> bool:
    """A live dedicated store whose stack has told the registry where it answers."""
    return (
        settings.TENANCY_MODE == "shared"
        and tenant.is_dedicated
        and tenant.status == Tenant.Status.ACTIVE
        and bool(tenant.upstream_url)
    )


def _request_headers(request: HttpRequest) -> dict[str, str]:
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
    }
    client = request.META.get("REMOTE_ADDR", "")
    forwarded_for = request.headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{forwarded_for}, {client}" if forwarded_for else client
    headers["X-Forwarded-Proto"] = request.scheme or "http"
    headers["X-Forwarded-Host"] = request.get_host()
    return headers


def _stream(upstream: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    try:
        yield from upstream.stream(CHUNK_BYTES, decode_content=False)
    finally:
        upstream.release_conn()


def _unreachable(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    detail = "This store's own servers are not answering right now; try again in a moment."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": "tenant_stack_unreachable"}, status=502)
    return render(request, "tenants/closed.html", {"tenant": tenant, "detail": detail}, status=502)


def forward(request: HttpRequest, tenant: Tenant) -> HttpResponse | StreamingHttpResponse:
    """The stack's answer to `request`, streamed; 502 when the stack cannot be reached."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    headers = _request_headers(request)
    if length:
        headers["Content-Length"] = str(length)
    url = tenant.upstream_url.rstrip("/") + request.get_full_path()
    try:
        upstream = _pool.urlopen(
            request.method or "GET",
            url,
            body=request if length else None,  # the WSGI input, streamed: uploads are not held in memory
            headers=headers,
            redirect=False,
            preload_content=False,
            decode_content=False,
            assert_same_host=False,
            timeout=urllib3.Timeout(connect=5.0, read=settings.DEDICATED_PROXY_TIMEOUT),
        )
    except urllib3.exceptions.HTTPError:
        return _unreachable(request, tenant)
    response: HttpResponse | StreamingHttpResponse
    size = upstream.headers.get("Content-Length", "")
    if size.isdigit() and int(size) <= BUFFERED_BYTES:
        # A small answer of known size (pages, API JSON) is read at once and the connection reused.
        response = HttpResponse(upstream.read(decode_content=False), status=upstream.status, reason=upstream.reason)
        upstream.release_conn()
    else:
        response = StreamingHttpResponse(_stream(upstream), status=upstream.status, reason=upstream.reason)
    for name, value in upstream.headers.items():
        lowered = name.lower()
        if lowered in HOP_BY_HOP or lowered == "set-cookie":
            continue
        response[name] = value
    for cookie in upstream.headers.getlist("Set-Cookie"):
        response.cookies.load(cookie)
    return response
