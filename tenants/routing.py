"""Host -> tenant resolution, cached so that a request costs no database query to find its tenant."""

from __future__ import annotations

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


def tenant_for_host(hostname: str) -> Tenant | None:
    """The tenant served at `hostname`, or None. Unknown hosts are cached too (briefly)."""
    cache = caches[_CACHE_ALIAS]
    cached = cache.get(_cache_key(hostname))
    if cached == _MISSING:
        return None
    if cached is None:
        row = (
            Domain.objects.filter(domain=hostname).values_list(*(f"tenant__{field}" for field in _ROUTE_FIELDS)).first()
        )
        if row is None:
            cache.set(_cache_key(hostname), _MISSING, 30)
            return None
        cached = dict(zip(_ROUTE_FIELDS, row, strict=True))
        cache.set(_cache_key(hostname), cached, settings.TENANT_CACHE_SECONDS)
    tenant = Tenant(**cached)
    tenant._state.adding = False
    return tenant


def forget_tenant_routes(tenant: Tenant) -> None:
    """Evict every cached route to `tenant`; call after any change to it or its domains."""
    hostnames = list(Domain.objects.filter(tenant=tenant).values_list("domain", flat=True))
    hostnames.append(store_hostname(tenant.slug))
    caches[_CACHE_ALIAS].delete_many([_cache_key(h) for h in hostnames])
