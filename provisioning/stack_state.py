"""Steps every backend ends with: the control plane's record of a dedicated tenant changes once its
stack is live (routing switched to it) or gone. Idempotent like every step."""

from __future__ import annotations

import logging

from django.db import transaction

from provisioning import notifications
from provisioning.backends.base import Outcome, StepContext, StepFailed
from tenants.models import Tenant
from tenants.routing import forget_tenant_routes

logger = logging.getLogger(__name__)


def switch_routing(ctx: StepContext) -> Outcome:
    """Open the store: its status becomes active and its routes are forgotten, so the next request
    for its hostname finds it live. The merchant is told after commit."""
    tenant = Tenant.objects.get(pk=ctx.run.tenant_id)
    if tenant.status == Tenant.Status.ACTIVE:
        ctx.say(f"{tenant.slug} is already live.")
        return Outcome.ALREADY_DONE
    if not tenant.database_name:
        raise StepFailed("The tenant has no dedicated database on record; the create step has not run.")
    with transaction.atomic():
        switched = Tenant.objects.filter(pk=tenant.pk, status=Tenant.Status.PROVISIONING).update(
            status=Tenant.Status.ACTIVE, pending_owner_password=""
        )
        if not switched:
            raise StepFailed(f"The tenant is {tenant.status}, not provisioning; routing was left alone.")
        tenant.refresh_from_db()
        transaction.on_commit(lambda: notifications.send_store_live(tenant))
    forget_tenant_routes(tenant)
    ctx.say(f"{tenant.slug} is live, served from database {tenant.database_name}.")
    logger.info("dedicated tenant live", extra={"tenant": tenant.slug, "database": tenant.database_name})
    return Outcome.DONE


def record_deprovisioned(ctx: StepContext) -> Outcome:
    """Close the record: a taken-down tenant is deprovisioned (a rejected one stays rejected), with no
    database on record."""
    tenant = Tenant.objects.get(pk=ctx.run.tenant_id)
    final = Tenant.Status.REJECTED if tenant.status == Tenant.Status.REJECTED else Tenant.Status.DEPROVISIONED
    if tenant.status == final and not tenant.database_name:
        ctx.say(f"{tenant.slug} is already {final}.")
        return Outcome.ALREADY_DONE
    Tenant.objects.filter(pk=tenant.pk).update(status=final, database_name="", pending_owner_password="")
    forget_tenant_routes(tenant)
    ctx.say(f"{tenant.slug} is {final}; nothing of its stack is left running.")
    logger.info("dedicated tenant deprovisioned", extra={"tenant": tenant.slug})
    return Outcome.DONE
