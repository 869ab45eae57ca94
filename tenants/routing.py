"""Host -> tenant resolution, cached so that a request costs no database query to find its tenant."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import caches

from tenants.models import Domain, Tenant

_CACHE_ALIAS = "routing"
_ROUTE_FIELDS = ("id", "schema_name", "slug", "name", "status", "tenancy", "suspension_reason", "upstream_url")
_MISSING = "missing"


def root_hosts() -> set[str]:
    return {settings.PLATFORM_DOMAIN, f"www.{settings.PLATFORM_DOMAIN}"}


def store_hostname(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}"


def _url_for_host(hostname: str) -> str:
    port = f":{settings.PLATFORM_URL_PORT}" if settings.PLATFORM_URL_PORT else ""
    return f"{settings.PLATFORM_URL_SCHEME}://{hostname}{port}/"


def store_url(slug: str) -> str:
    return _url_for_host(store_hostname(slug))


def platform_url() -> str:
    return _url_for_host(settings.PLATFORM_DOMAIN)


def _cache_key(hostname: str) -> str:
    return f"tenant-host:{hostname}"


# Each process also keeps the routes it used for TENANT_ROUTE_MEMO_SECONDS (default 1 s): a Redis round
# trip is most of what routing costs a request. A change to a tenant evicts it here at once and from
# Redis (`forget_tenant_routes`); other processes see it within that second. Whatever must be sure no
# request is routed to a store any more (the upgrade's copy) waits `route_settle_seconds()` after closing it.
_memo: dict[str, tuple[float, dict[str, object]]] = {}
_MEMO_LIMIT = 10_000


def route_settle_seconds() -> float:
    """How long after a tenant changed every process routes by its new state, requests in flight aside."""
    return float(settings.TENANT_ROUTE_MEMO_SECONDS)


def forget_local_routes() -> None:
    _memo.clear()


def tenant_for_host(hostname: str) -> Tenant | None:
    """The tenant served at `hostname`, or None. Unknown hosts are cached too (briefly)."""
    now = time.monotonic()
    remembered = _memo.get(hostname)
    if remembered is not None and now - remembered[0] < settings.TENANT_ROUTE_MEMO_SECONDS:
        return _tenant(remembered[1])
    cache = caches[_CACHE_ALIAS]
    entry = cache.get(_cache_key(hostname))
    # Entries name the stack that wrote them: another stack's route (its store in its own database) is a miss.
    cached = entry[1] if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == settings.STACK_ID else None
    if cached == _MISSING:
        return None
    if cached is None:
        row = (
            Domain.objects.filter(domain=hostname).values_list(*(f"tenant__{field}" for field in _ROUTE_FIELDS)).first()
        )
        if row is None:
            cache.set(_cache_key(hostname), (settings.STACK_ID, _MISSING), 30)
            return None
        cached = dict(zip(_ROUTE_FIELDS, row, strict=True))
        cache.set(_cache_key(hostname), (settings.STACK_ID, cached), settings.TENANT_CACHE_SECONDS)
    if settings.TENANT_ROUTE_MEMO_SECONDS > 0:
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[hostname] = (now, cached)
    return _tenant(cached)


def _tenant(route: dict[str, object]) -> Tenant:
    tenant = Tenant(**route)
    tenant._state.adding = False
    return tenant


def forget_tenant_routes(tenant: Tenant) -> None:
    """Evict every cached route to `tenant`; call after any change to it or its domains."""
    hostnames = list(Domain.objects.filter(tenant=tenant).values_list("domain", flat=True))
    hostnames.append(store_hostname(tenant.slug))
    forget_hostnames(hostnames)


def forget_hostnames(hostnames: list[str]) -> None:
    """Evict these hostnames' routes from this process and from the shared cache."""
    for hostname in hostnames:
        _memo.pop(hostname, None)
    caches[_CACHE_ALIAS].delete_many([_cache_key(h) for h in hostnames])
