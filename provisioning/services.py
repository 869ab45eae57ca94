"""The dedicated-tenant lifecycle as staff drive it: approve (a provisioning run is queued), reject
(the merchant is told why), retry a failed run, cancel one, deprovision a live stack. Each change is
one transaction; the Celery task and the mail go out after commit."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import quote_schema_name, schema_exists

from provisioning import notifications
from provisioning.backends import get_backend
from provisioning.backends.base import StepSpec
from provisioning.locking import is_tenant_locked
from provisioning.models import ProvisioningRun, ProvisioningStep
from tenants import lifecycle
from tenants.accounts.models import User
from tenants.db_backend import connection
from tenants.models import Tenant
from tenants.task_queue import enqueue

logger = logging.getLogger(__name__)

Run = ProvisioningRun
Step = ProvisioningStep


class ProvisioningConflict(Exception):
    """The request does not fit the tenant's or the run's current state; nothing was changed."""


def queue_run(run_id: int) -> None:
    try:
        enqueue("provisioning.execute_run", run_id)
    except Exception:  # noqa: BLE001 - the run is committed; the stall sweeper queues it when the broker is back
        logger.exception("could not queue a provisioning run", extra={"run": run_id})


def _steps(kind: str, backend_name: str) -> list[StepSpec]:
    try:
        return get_backend(backend_name).steps(kind)
    except NotImplementedError as error:
        raise ProvisioningConflict(str(error)) from error


def _create_run(tenant: Tenant, kind: str, requested_by: User | None) -> ProvisioningRun:
    """A run with its steps, queued after commit; in the caller's transaction."""
    backend_name = settings.PROVISIONING_BACKEND
    specs = _steps(kind, backend_name)
    try:
        with transaction.atomic():
            run = Run.objects.create(tenant=tenant, kind=kind, backend=backend_name, requested_by=requested_by)
    except IntegrityError as error:
        raise ProvisioningConflict(f"'{tenant.slug}' already has an unfinished provisioning run.") from error
    Step.objects.bulk_create(
        Step(run=run, position=position, name=spec.name, label=spec.label)
        for position, spec in enumerate(specs, start=1)
    )
    transaction.on_commit(partial(queue_run, run.pk))
    return run


def _actor(staff_user: User | None) -> lifecycle.Actor:
    return lifecycle.Actor.user(staff_user) if staff_user is not None else lifecycle.Actor.system("provisioning")


def _locked_tenant(tenant: Tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


def approve_dedicated_request(tenant: Tenant, staff_user: User | None) -> ProvisioningRun:
    """Start building a pending dedicated tenant's stack."""
    with transaction.atomic():
        tenant = _locked_tenant(tenant)
        if not tenant.is_dedicated or tenant.status != Tenant.Status.PENDING_PROVISIONING:
            raise ProvisioningConflict(
                f"Only a dedicated request pending provisioning can be approved; '{tenant.slug}' is "
                f"{tenant.tenancy} and {tenant.status}."
            )
        run = _create_run(tenant, Run.Kind.PROVISION, staff_user)
        lifecycle.change_status(tenant, Tenant.Status.PROVISIONING, by=_actor(staff_user), reason="approved")
    logger.info("dedicated request approved", extra={"tenant": tenant.slug, "run": run.pk})
    return run


def reject_dedicated_request(tenant: Tenant, reason: str, staff_user: User | None = None) -> Tenant:
    """Refuse a pending dedicated request; the reason is recorded and mailed to the merchant. Anything a
    cancelled run had already built is taken down by a deprovisioning run."""
    reason = reason.strip()
    if not reason:
        raise ProvisioningConflict("Give the merchant a reason for the rejection.")
    with transaction.atomic():
        tenant = _locked_tenant(tenant)
        if not tenant.is_dedicated or tenant.status != Tenant.Status.PENDING_PROVISIONING:
            raise ProvisioningConflict(
                f"Only a dedicated request pending provisioning can be rejected; '{tenant.slug}' is {tenant.status}."
            )
        # The owner's password hash was kept only for a stack that will now never exist.
        tenant = lifecycle.change_status(
            tenant,
            Tenant.Status.REJECTED,
            by=_actor(staff_user),
            reason=reason[:500],
            rejection_reason=reason[:500],
            pending_owner_password="",
        )
        if tenant.database_name:
            _create_run(tenant, Run.Kind.DEPROVISION, staff_user)
        transaction.on_commit(partial(notifications.send_rejection, tenant))
    logger.info("dedicated request rejected", extra={"tenant": tenant.slug})
    return tenant


def request_deprovisioning(tenant: Tenant, staff_user: User | None) -> ProvisioningRun:
    """Take a dedicated stack down: final export, destroy, record."""
    with transaction.atomic():
        tenant = _locked_tenant(tenant)
        if not tenant.is_dedicated or tenant.status not in (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED):
            raise ProvisioningConflict(
                f"Only a live or suspended dedicated stack can be deprovisioned; '{tenant.slug}' is {tenant.status}."
            )
        run = _create_run(tenant, Run.Kind.DEPROVISION, staff_user)
        lifecycle.change_status(tenant, Tenant.Status.DEPROVISIONING, by=_actor(staff_user), reason="deprovisioning")
    logger.info("deprovisioning requested", extra={"tenant": tenant.slug, "run": run.pk})
    return run


def request_upgrade(tenant: Tenant, staff_user: User | None) -> ProvisioningRun:
    """Move a live shared store onto its own stack: built like a dedicated one, its schema's data then
    copied (the store closed meanwhile), then routing switched. The shared schema is kept until staff
    confirm the upgrade."""
    with transaction.atomic():
        tenant = _locked_tenant(tenant)
        if tenant.is_dedicated or tenant.status != Tenant.Status.ACTIVE:
            raise ProvisioningConflict(
                f"Only a live shared store can be upgraded to dedicated; '{tenant.slug}' is {tenant.tenancy} "
                f"and {tenant.status}."
            )
        run = _create_run(tenant, Run.Kind.UPGRADE, staff_user)
    logger.info("upgrade to dedicated requested", extra={"tenant": tenant.slug, "run": run.pk})
    return run


def kept_shared_schema(tenant: Tenant) -> str | None:
    """The shared schema an upgraded store left behind, awaiting staff confirmation; None if none."""
    upgraded = Run.objects.filter(tenant=tenant, kind=Run.Kind.UPGRADE, state=Run.State.SUCCEEDED).exists()
    if tenant.is_dedicated and upgraded and schema_exists(tenant.schema_name):
        return tenant.schema_name
    return None


def confirm_upgrade(tenant: Tenant) -> str:
    """Staff confirm an upgraded store is well on its own database: its shared schema is dropped.
    Returns the dropped schema's name."""
    with transaction.atomic():
        tenant = _locked_tenant(tenant)
        if not tenant.is_dedicated or tenant.status != Tenant.Status.ACTIVE:
            raise ProvisioningConflict(
                f"Only a live dedicated store's old schema can be dropped; '{tenant.slug}' is {tenant.status}."
            )
        schema = kept_shared_schema(tenant)
        if schema is None:
            raise ProvisioningConflict(f"'{tenant.slug}' has no shared schema left from an upgrade.")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {quote_schema_name(schema)} CASCADE")
    # Its files were copied to the stack's own storage by the upgrade; the shared copies go too.
    shutil.rmtree(Path(settings.MEDIA_ROOT) / schema, ignore_errors=True)
    logger.info("upgrade confirmed: shared schema dropped", extra={"tenant": tenant.slug, "schema": schema})
    return schema


def retry_run(run: ProvisioningRun) -> ProvisioningRun:
    """Run a failed run again from its failed step; the steps before it are not repeated."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.state != Run.State.FAILED:
            raise ProvisioningConflict(f"Only a failed run can be retried; run {run.pk} is {run.state}.")
        run.steps.filter(state__in=[Step.State.FAILED, Step.State.RUNNING]).update(state=Step.State.PENDING)
        run.state = Run.State.PENDING
        run.error = ""
        run.finished_at = None
        run.save(update_fields=["state", "error", "finished_at", "updated_at"])
        transaction.on_commit(partial(queue_run, run.pk))
    logger.info("provisioning run retried", extra={"run": run.pk})
    return run


def cancel_run(run: ProvisioningRun, staff_user: User | None = None) -> ProvisioningRun:
    """Stop a run before its next step. Refused once an irreversible step (routing switched, database
    dropped) has started: such a run must be finished. A cancelled provisioning leaves the request
    pending again (a new approval reuses what was built, a rejection takes it down)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.state not in Run.UNFINISHED_STATES:
            raise ProvisioningConflict(f"Run {run.pk} is already {run.state}.")
        irreversible = {spec.name for spec in _steps(run.kind, run.backend) if spec.irreversible}
        started = run.steps.filter(name__in=irreversible, state__in=[Step.State.RUNNING, *Step.DONE_STATES])
        if started.exists():
            raise ProvisioningConflict(
                f"Run {run.pk} is past its point of no return ({started.first()}); retry it to finish instead."
            )
        run.state = Run.State.CANCELLED
        run.finished_at = timezone.now()
        run.save(update_fields=["state", "finished_at", "updated_at"])
        back = {
            Run.Kind.PROVISION: (Tenant.Status.PROVISIONING, Tenant.Status.PENDING_PROVISIONING),
            Run.Kind.DEPROVISION: (Tenant.Status.DEPROVISIONING, Tenant.Status.ACTIVE),
            # An upgrade stopped before its switch reopens the shared store, its data untouched there.
            Run.Kind.UPGRADE: (Tenant.Status.MIGRATING, Tenant.Status.ACTIVE),
        }[Run.Kind(run.kind)]
        if Tenant.objects.filter(pk=run.tenant_id, status=back[0]).exists():
            lifecycle.change_status(
                run.tenant, back[1], by=_actor(staff_user), reason=f"run {run.pk} cancelled", expected=[back[0]]
            )
    logger.info("provisioning run cancelled", extra={"run": run.pk})
    return run


def resume_stalled_runs() -> list[int]:
    """Queue again every unfinished run that nobody is executing and that has not moved for a while:
    a worker killed mid-run (with its task lost or not yet redelivered). Returns the runs queued."""
    cutoff = timezone.now() - timedelta(seconds=settings.PROVISIONING_STALL_SECONDS)
    stalled = Run.objects.filter(state__in=[Run.State.PENDING, Run.State.RUNNING], updated_at__lt=cutoff)
    queued = []
    for run_id, tenant_id in stalled.values_list("pk", "tenant_id"):
        if not is_tenant_locked(tenant_id):
            queue_run(run_id)
            queued.append(run_id)
    if queued:
        logger.warning("stalled provisioning runs queued again", extra={"runs": queued})
    return queued
