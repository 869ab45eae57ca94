"""Request routing by hostname: the root domain serves the control plane from `public`, every other
known host serves one store from its own schema; stores that are not live say so."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import set_urlconf

from tenants import stack_proxy, standing
from tenants.db_backend import connection
from tenants.models import Tenant
from tenants.routing import platform_url, root_hosts, tenant_for_host


class TenantRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
        connection.set_schema_to_public()
        hostname = request.get_host().rsplit(":", 1)[0].lower()
        tenant = None
        if hostname not in root_hosts():
            tenant = tenant_for_host(hostname)
            if tenant is None:
                return render(request, "tenants/no_store.html", {"hostname": hostname}, status=404)
            if stack_proxy.is_served_elsewhere(tenant):
                # A live dedicated store: its own stack answers, from its own database.
                return stack_proxy.forward(request, tenant)
            if settings.TENANCY_MODE == "dedicated":
                # The platform is not in front of a stack: it closes its store as the control plane says.
                standing.apply_standing(tenant)
        elif settings.TENANCY_MODE == "dedicated":
            # A dedicated stack serves its one store: no marketplace, signup or control plane here.
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


# What a closed store's own people still reach: the admin, and billing (with a token) to pay and reopen it.
OPEN_TO_STAFF_WHEN_CLOSED = ("/admin/", "/api/v1/billing/", "/api/v1/auth/token")


class TenantAvailabilityMiddleware:
    """A store that is not live (suspended, being provisioned, rejected, taken down) is closed to
    buyers and its API; the owner of a shared store can still reach its admin. Nothing is written or
    deleted. A dedicated store's data lives in its own database, never in a schema here, so this
    process never hands it to a view (with no schema, the search path would fall through to `public`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if not isinstance(tenant, Tenant):
            return self.get_response(request)
        # A store's data is here: a shared store's schema, or (single-tenant mode) this stack's own database.
        if not tenant.is_dedicated or settings.TENANCY_MODE == "dedicated":
            if tenant.status == Tenant.Status.ACTIVE:
                return self.get_response(request)
            # The owner keeps the admin of a closed store, except while its data is copied elsewhere.
            if request.path.startswith(OPEN_TO_STAFF_WHEN_CLOSED) and tenant.status != Tenant.Status.MIGRATING:
                return self.get_response(request)
        code, detail = closed_reason(tenant)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": code}, status=403)
        return render(
            request,
            "tenants/closed.html",
            {"tenant": tenant, "detail": detail, "marketplace_url": platform_url()},
            status=503,
        )


def closed_reason(tenant: Tenant) -> tuple[str, str]:
    """Why a store is closed here: an API error code and the sentence buyers see."""
    if tenant.status == Tenant.Status.SUSPENDED:
        return "tenant_suspended", (
            f"This store is temporarily closed: {tenant.suspension_reason or 'suspended by the platform.'}"
        )
    if tenant.status == Tenant.Status.MIGRATING:
        return "tenant_migrating", "This store is moving to its own servers and will be back in a few minutes."
    if tenant.status in (Tenant.Status.PENDING_PROVISIONING, Tenant.Status.PROVISIONING):
        return "tenant_not_live", "This store is being prepared and is not open yet."
    if tenant.status == Tenant.Status.ACTIVE:  # dedicated: served by its own stack, not from here
        return "tenant_dedicated", "This store runs on its own dedicated stack and is not served at this address."
    return "tenant_closed", "This store is closed."
