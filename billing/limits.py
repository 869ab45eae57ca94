"""Plan limits enforced in the product: how many products, staff seats and custom domains a store's
plan allows (empty on the plan: unlimited). The services that create those things ask here first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from billing.errors import BillingError
from billing.models import Subscription
from config.db_backend import connection
from tenants.models import Tenant
from tenants.routing import store_url


@dataclass(frozen=True)
class Limit:
    plan_field: str  # the Plan column holding the limit
    noun: str  # what is counted, plural
    count: Callable[[Tenant], int]  # how many the store has now (in the store's schema)


def _products(tenant: Tenant) -> int:
    from storefront.catalog.models import Product

    return Product.objects.count()


def _staff_seats(tenant: Tenant) -> int:
    # The owner holds no seat: a seat is a login for someone the owner adds.
    from tenants.accounts.models import Membership

    return Membership.objects.filter(role=Membership.Role.STAFF).count()


def _custom_domains(tenant: Tenant) -> int:
    from tenants.models import Domain
    from tenants.routing import store_hostname

    return Domain.objects.filter(tenant_id=tenant.pk).exclude(domain=store_hostname(tenant.slug)).count()


LIMITS: dict[str, Limit] = {
    "products": Limit("max_products", "products", _products),
    "staff_seats": Limit("staff_seats", "staff seats", _staff_seats),
    "custom_domains": Limit("custom_domains", "custom domains", _custom_domains),
}


@dataclass
class PlanLimitReached(BillingError):
    """Adding would take the store past its plan's limit; ``upgrade_url`` is where the owner upgrades."""

    code: str = "plan_limit_reached"
    resource: str = ""
    limit: int = 0
    upgrade_url: str = ""


def upgrade_url(tenant: Tenant) -> str:
    return f"{store_url(tenant.slug)}admin/billing/"


def plan_limit(tenant: Tenant, resource: str) -> tuple[str, int | None]:
    """The store's plan name and its limit for ``resource`` (None: unlimited, or no subscription) —
    one query."""
    field = LIMITS[resource].plan_field
    row = Subscription.objects.filter(tenant_id=tenant.pk).values_list("plan__name", f"plan__{field}").first()
    return (row[0], row[1]) if row else ("", None)


def remaining(tenant: Tenant, resource: str) -> int | None:
    """How many more ``resource`` the plan allows (never below 0), or None for unlimited."""
    _, limit = plan_limit(tenant, resource)
    if limit is None:
        return None
    return max(limit - LIMITS[resource].count(tenant), 0)


def limit_reached(tenant: Tenant, resource: str) -> PlanLimitReached:
    plan_name, limit = plan_limit(tenant, resource)
    noun = LIMITS[resource].noun
    return PlanLimitReached(
        f"Your {plan_name} plan includes up to {limit} {noun}, and this store has reached it. "
        f"Upgrade your plan to add more.",
        resource=resource,
        limit=limit or 0,
        upgrade_url=upgrade_url(tenant),
    )


def check_limit(tenant: Tenant, resource: str, adding: int = 1) -> None:
    """Raise PlanLimitReached if adding ``adding`` more ``resource`` would exceed the plan's limit.
    Runs in the store's schema (products and seats are counted there)."""
    left = remaining(tenant, resource)
    if left is not None and adding > left:
        raise limit_reached(tenant, resource)


def current_store() -> Tenant | None:
    """The store whose schema the connection is in; None in `public` or a single-tenant deployment."""
    tenant = getattr(connection, "tenant", None)
    return tenant if isinstance(tenant, Tenant) and tenant.pk else None


def check_store_limit(resource: str, adding: int = 1) -> None:
    """check_limit for the store the connection serves (nothing to check outside a store)."""
    if (tenant := current_store()) is not None:
        check_limit(tenant, resource, adding)


def store_remaining(resource: str) -> int | None:
    tenant = current_store()
    return remaining(tenant, resource) if tenant is not None else None
