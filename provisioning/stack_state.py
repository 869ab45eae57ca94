"""Steps every backend ends with: the control plane's record of a dedicated tenant changes once its
stack is live (routing switched to it) or gone. Idempotent like every step."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django_tenants.utils import schema_context

from billing.models import Plan, Subscription
from billing.selectors import public_plan_codes
from billing.services import change_plan, start_subscription
from provisioning import notifications
from provisioning.backends.base import Outcome, StepContext, StepFailed
from storefront.catalog.models import ImportJob
from storefront.marketplace.services import withdraw_store
from tenants import lifecycle
from tenants.models import Domain, Tenant
from tenants.routing import route_settle_seconds

logger = logging.getLogger(__name__)
CLOSE_SETTLE_MARGIN_SECONDS = 1.0
ACTOR = lifecycle.Actor.system("provisioning")


def switch_routing(ctx: StepContext) -> Outcome:
    """Open the store: its status becomes active and its routes are forgotten, so the next request
    for its hostname finds it live. The merchant is told after commit."""
    tenant = Tenant.objects.get(pk=ctx.run.tenant_id)
    if tenant.status == Tenant.Status.ACTIVE and tenant.is_dedicated:
        ctx.say(f"{tenant.slug} is already live.")
        return Outcome.ALREADY_DONE
    if not tenant.database_name:
        raise StepFailed("The tenant has no dedicated database on record; the create step has not run.")
    with transaction.atomic():
        # A new dedicated store is `provisioning`; an upgraded shared one `migrating` (closed for its copy).
        try:
            tenant = lifecycle.change_status(
                tenant,
                Tenant.Status.ACTIVE,
                by=ACTOR,
                reason="stack live",
                expected=[Tenant.Status.PROVISIONING, Tenant.Status.MIGRATING],
                tenancy=Tenant.Tenancy.DEDICATED,
                pending_owner_password="",
            )
        except lifecycle.IllegalTransition as error:
            raise StepFailed(f"{error} Routing was left alone.") from error
        _start_billing(tenant)
        transaction.on_commit(lambda: notifications.send_store_live(tenant))
    ctx.say(f"{tenant.slug} is live, served from database {tenant.database_name}.")
    logger.info("dedicated tenant live", extra={"tenant": tenant.slug, "database": tenant.database_name})
    return Outcome.DONE


def _start_billing(tenant: Tenant) -> None:
    """A new dedicated store is billed from the moment it goes live, in the same transaction: never live
    without a subscription, nor billed for a stack that never opened (its plan was chosen at signup). An
    upgraded shared store's subscription moves to the dedicated plan then, prorated over the rest of its
    period (a credit for the shared fee, a charge for the dedicated one, on its next invoice)."""
    subscription = Subscription.objects.select_related("plan").filter(tenant=tenant).first()
    if subscription is not None:
        if subscription.plan.tenancy != Tenant.Tenancy.DEDICATED:
            choices = public_plan_codes(Tenant.Tenancy.DEDICATED)
            if not choices:
                raise StepFailed(f"No public dedicated plan to move {tenant.slug}'s subscription to.")
            plan_code = tenant.plan_code if tenant.plan_code in choices else choices[0]
            change_plan(tenant, plan_code, across_tenancy=True)
        return
    plan = Plan.objects.filter(code=tenant.plan_code, tenancy=Tenant.Tenancy.DEDICATED).first()
    if plan is None:
        raise StepFailed(f"No dedicated plan {tenant.plan_code!r} to bill {tenant.slug} on; the store stays closed.")
    start_subscription(tenant, plan)


def close_shared_store(ctx: StepContext) -> Outcome:
    """Close a shared store before its data is copied to its own database (status `migrating`: buyers,
    the API and the admin all refuse it), so nothing written after the copy is lost. A CSV import
    still running in the schema would write on after the copy: the step fails until it has finished."""
    tenant = Tenant.objects.get(pk=ctx.run.tenant_id)
    if tenant.status == Tenant.Status.MIGRATING:
        ctx.say(f"{tenant.slug} is already closed for migrating.")
        outcome = Outcome.ALREADY_DONE
    else:
        if tenant.is_dedicated or tenant.status != Tenant.Status.ACTIVE:
            raise StepFailed(f"The tenant is {tenant.tenancy} and {tenant.status}; only live shared stores upgrade.")
        try:
            lifecycle.change_status(
                tenant, Tenant.Status.MIGRATING, by=ACTOR, reason="upgrade: copying", expected=[Tenant.Status.ACTIVE]
            )
        except lifecycle.IllegalTransition as error:
            raise StepFailed(str(error)) from error
        # Other web processes reuse a route they read for up to a second: let them all see the close,
        # and requests already past routing finish, before the copy starts.
        time.sleep(route_settle_seconds() + CLOSE_SETTLE_MARGIN_SECONDS)
        ctx.say(f"{tenant.slug} is closed (migrating): no writes until it is live on its own database.")
        outcome = Outcome.DONE
    if running := running_imports(tenant.schema_name):
        raise StepFailed(f"{running} CSV imports are still running in {tenant.schema_name}; retry once they finish.")
    return outcome


def running_imports(schema_name: str) -> int:
    with schema_context(schema_name):
        return ImportJob.objects.filter(status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]).count()


def record_deprovisioned(ctx: StepContext) -> Outcome:
    """Close the record: a taken-down tenant is deprovisioned (a rejected one stays rejected), with no
    database on record."""
    tenant = Tenant.objects.get(pk=ctx.run.tenant_id)
    final = Tenant.Status.REJECTED if tenant.status == Tenant.Status.REJECTED else Tenant.Status.DEPROVISIONED
    domains = Domain.objects.filter(tenant=tenant)
    if final == Tenant.Status.REJECTED:
        domains = domains.none()
    if tenant.status == final and not tenant.database_name and not tenant.upstream_url and not domains.exists():
        ctx.say(f"{tenant.slug} is already {final}.")
        return Outcome.ALREADY_DONE
    with transaction.atomic():
        # Nothing routes to a stack that is gone: its hostnames are freed.
        removed = lifecycle.remove_stack(tenant, final, by=ACTOR)
        withdraw_store(tenant.pk)  # its marketplace listings go with the stack
    if removed:
        ctx.say(f"Removed {removed} hostnames routing to it.")
    ctx.say(f"{tenant.slug} is {final}; nothing of its stack is left running.")
    logger.info("dedicated tenant deprovisioned", extra={"tenant": tenant.slug})
    return Outcome.DONE
