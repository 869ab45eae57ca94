"""Plan limits enforced in the product: how many products, staff seats and custom domains a store's
plan allows (empty on the plan: unlimited). The services that create those things count what the store
has (they own those tables) and ask here, holding the store's lock for that resource so that two
additions at the limit cannot both pass (`lock_store_additions`). On a dedicated store's stack, whose
billing tables are empty (the platform bills it), the limits are those of the plan in the store's standing
on the control plane (tenants.standing)."""

from __future__ import annotations

from dataclasses import dataclass

from billing.control_plane import is_dedicated_stack
from billing.errors import BillingError
from billing.models import Plan, Subscription
from tenants.accounts.services import SeatRefused
from tenants.advisory_locks import hold_until_commit, store_lock_name
from tenants.db_backend import connection
from tenants.models import Domain, Tenant
from tenants.routing import store_hostname, store_url
from tenants.standing import store_standing


@dataclass(frozen=True)
class Limit:
    plan_field: str  # the Plan column holding the limit
    noun: str  # what is counted, plural


LIMITS: dict[str, Limit] = {
    "products": Limit("max_products", "products"),
    "staff_seats": Limit("staff_seats", "staff seats"),
    "custom_domains": Limit("custom_domains", "custom domains"),
}


@dataclass
class PlanLimitReached(BillingError, SeatRefused):
    """Adding would take the store past its plan's limit; ``upgrade_url`` is where the owner upgrades."""

    code: str = "plan_limit_reached"
    resource: str = ""
    limit: int = 0
    upgrade_url: str = ""


def upgrade_url(tenant: Tenant) -> str:
    return f"{store_url(tenant.slug)}admin/billing/"


def plan_limits(plan: Plan) -> dict[str, int | None]:
    """The plan's limit for each resource (None: unlimited), as a stack's standing carries them."""
    return {resource: getattr(plan, limit.plan_field) for resource, limit in LIMITS.items()}


def plan_limit(tenant: Tenant, resource: str) -> tuple[str, int | None]:
    """The store's plan name and its limit for ``resource`` (None: unlimited, or no subscription) —
    one query; on a stack, from its standing (none known: unlimited, the stack serves what it has)."""
    if is_dedicated_stack():
        standing = store_standing()
        return (standing.plan_name, standing.limits.get(resource)) if standing is not None else ("", None)
    field = LIMITS[resource].plan_field
    row = Subscription.objects.filter(tenant_id=tenant.pk).values_list("plan__name", f"plan__{field}").first()
    return (row[0], row[1]) if row else ("", None)


def remaining(tenant: Tenant, resource: str, *, current: int) -> int | None:
    """How many more ``resource`` the plan allows beyond ``current`` (never below 0), or None for unlimited."""
    _, limit = plan_limit(tenant, resource)
    if limit is None:
        return None
    return max(limit - current, 0)


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


def check_limit(tenant: Tenant, resource: str, *, current: int, adding: int = 1) -> None:
    """Raise PlanLimitReached if a store having ``current`` ``resource`` may not add ``adding`` more."""
    left = remaining(tenant, resource, current=current)
    if left is not None and adding > left:
        raise limit_reached(tenant, resource)


def current_store() -> Tenant | None:
    """The store whose schema the connection is in; None in `public` or a single-tenant deployment."""
    tenant = getattr(connection, "tenant", None)
    return tenant if isinstance(tenant, Tenant) and tenant.pk else None


def lock_store_additions(resource: str) -> None:
    """Make additions of ``resource`` to the current store take turns until this transaction ends: count
    after this, so the count cannot go stale before the insert commits."""
    hold_until_commit(store_lock_name(resource))


def check_store_limit(resource: str, *, current: int, adding: int = 1) -> None:
    """check_limit for the store the connection serves (nothing to check outside a store)."""
    if (tenant := current_store()) is not None:
        check_limit(tenant, resource, current=current, adding=adding)


def store_remaining(resource: str, *, current: int) -> int | None:
    tenant = current_store()
    return remaining(tenant, resource, current=current) if tenant is not None else None


def custom_domain_count(tenant: Tenant) -> int:
    """Hostnames of the store other than its platform one (the registry is below billing: counted here)."""
    return Domain.objects.filter(tenant_id=tenant.pk).exclude(domain=store_hostname(tenant.slug)).count()
