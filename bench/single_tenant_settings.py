"""A plain single-tenant Django settings module: the comparison point of `make bench-catalog`.

The same apps, views, serializers and middleware as the platform, but no tenancy: Django's own
PostgreSQL backend, every table in `public` of one database (SINGLE_TENANT_DATABASE_URL), no host
routing, no search_path, no tenant-namespaced cache keys or media. What the platform costs on top of
this is what multi-tenancy costs.
"""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import CACHES, DATABASES, INSTALLED_APPS, MIDDLEWARE, STORAGES, env

# django-tenants' own app only checks tenancy settings; the models that use its mixins still import.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_tenants"]

DATABASES = {
    "default": {
        **env.db("SINGLE_TENANT_DATABASE_URL"),
        "ENGINE": "django.db.backends.postgresql",
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
    }
}
DATABASE_ROUTERS: list[str] = []
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("tenants.middleware.")]
ROOT_URLCONF = "bench.single_tenant_urls"
# Plain keys, under a prefix of their own: the platform's cached reads are never this app's.
CACHES = {
    alias: {
        **{key: value for key, value in cache.items() if key not in ("KEY_FUNCTION", "REVERSE_KEY_FUNCTION")},
        "KEY_PREFIX": f"single-tenant:{cache.get('KEY_PREFIX', '')}",
    }
    for alias, cache in CACHES.items()
}
STORAGES = {**STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
