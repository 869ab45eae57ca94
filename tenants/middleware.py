"""Request routing by hostname: the root domain serves the control plane from `public`, every other
known host serves one store from its own schema; stores that are not live say so."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import set_urlconf

from config.db_backend import connection
from tenants.models import Tenant
from tenants.routing import platform_url, root_hosts, tenant_for_host


class TenantRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.set_schema_to_public()
        hostname = request.get_host().rsplit(":", 1)[0].lower()
        tenant = None
        if hostname not in root_hosts():
            tenant = tenant_for_host(hostname)
            if tenant is None:
                return render(request, "tenants/no_store.html", {"hostname": hostname}, status=404)
        # On the root host request.tenant is django-tenants' stand-in for `public` (its admin
        # templates read request.tenant.schema_name); on a store host, the store's Tenant.
        request.tenant = tenant or connection.tenant  # type: ignore[attr-defined]
        request.urlconf = settings.ROOT_URLCONF if tenant else settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
        set_urlconf(request.urlconf)  # type: ignore[attr-defined]
        if tenant is not None:
            tenant.domain_url = hostname
            connection.set_tenant(tenant)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()


class TenantAvailabilityMiddleware:
    """A suspended or not-yet-provisioned store is closed to buyers and its API; its owner can still
    reach the admin. Nothing is written or deleted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if not isinstance(tenant, Tenant) or tenant.status == Tenant.Status.ACTIVE:
            return self.get_response(request)
        if request.path.startswith("/admin/"):
            return self.get_response(request)
        if tenant.status == Tenant.Status.SUSPENDED:
            code = "tenant_suspended"
            detail = f"This store is temporarily closed: {tenant.suspension_reason or 'suspended by the platform.'}"
        else:
            code = "tenant_not_live"
            detail = "This store is being prepared and is not open yet."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": code}, status=403)
        return render(
            request,
            "tenants/closed.html",
            {"tenant": tenant, "detail": detail, "marketplace_url": platform_url()},
            status=503,
        )
