"""Executes a provisioning run: its steps in order, skipping those already done, each step's start
and end committed in a transaction of its own, under the tenant's lock (provisioning.locking).

A worker killed mid-step leaves that step `running`; the next execution (the redelivered task, or
the stall sweeper) takes the lock the dead connection released and runs the step again, which is
safe because every step is idempotent. A run cancelled by staff stops before its next step.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from provisioning.backends import get_backend
from provisioning.backends.base import Outcome, StepContext, StepFailed, StepSpec
from provisioning.locking import tenant_lock
from provisioning.models import ProvisioningRun, ProvisioningStep
from provisioning.redaction import log_tail, redact

logger = logging.getLogger(__name__)

Run = ProvisioningRun
Step = ProvisioningStep
# What an execution reports (the task's return value, and the tests' handle on what happened).
BUSY = "busy"  # another executor holds the tenant's lock: nothing was done
MISSING = "missing"


def execute_run(run_id: int) -> str:
    """Work on run `run_id` until it succeeds, fails, or is cancelled; returns the outcome."""
    tenant_id = Run.objects.filter(pk=run_id).values_list("tenant_id", flat=True).first()
    if tenant_id is None:
        return MISSING
    with tenant_lock(tenant_id) as acquired:
        if not acquired:
            logger.info("provisioning run busy elsewhere", extra={"run": run_id, "tenant": tenant_id})
            return BUSY
        return _execute_locked(run_id)


def _execute_locked(run_id: int) -> str:
    if not _start_run(run_id):
        return str(Run.objects.values_list("state", flat=True).get(pk=run_id))
    run = Run.objects.select_related("tenant").get(pk=run_id)
    for step in run.steps.order_by("position"):
        if step.is_done:
            continue
        if not _begin_step(run, step):
            return str(Run.objects.values_list("state", flat=True).get(pk=run_id))
        context = StepContext(run=Run.objects.select_related("tenant").get(pk=run_id))
        try:
            spec = _spec(run, step)
            outcome = spec.perform(context)
        except Exception as error:  # noqa: BLE001 - every failure is recorded on the step, shown to staff
            _fail_step(run, step, context, error)
            return Run.State.FAILED
        # KeyboardInterrupt/SystemExit (a worker shutting down hard) pass through: the step stays
        # `running` and is done again on resume.
        _finish_step(step, context, outcome)
    with transaction.atomic():
        finished = Run.objects.filter(pk=run_id, state=Run.State.RUNNING).update(
            state=Run.State.SUCCEEDED, finished_at=timezone.now(), error=""
        )
    logger.info("provisioning run finished", extra={"run": run_id, "kind": run.kind, "tenant": run.tenant.slug})
    return Run.State.SUCCEEDED if finished else str(Run.objects.values_list("state", flat=True).get(pk=run_id))


def _spec(run: ProvisioningRun, step: ProvisioningStep) -> StepSpec:
    return get_backend(run.backend).step(run.kind, step.name)


def _start_run(run_id: int) -> bool:
    """Mark the run running (a resumed one already is); False when it is failed, cancelled or done."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.state not in (Run.State.PENDING, Run.State.RUNNING):
            return False
        run.state = Run.State.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["state", "started_at", "updated_at"])
    return True


def _begin_step(run: ProvisioningRun, step: ProvisioningStep) -> bool:
    """Record the step's start, unless the run was cancelled meanwhile (checked under the run's lock,
    which cancel_run takes too)."""
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.state != Run.State.RUNNING:
            return False
        locked.save(update_fields=["updated_at"])  # a heartbeat for the stall sweeper
        Step.objects.filter(pk=step.pk).update(
            state=Step.State.RUNNING,
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
            finished_at=None,
            error="",
        )
    return True


def _log(context: StepContext) -> str:
    return log_tail(redact("\n".join(context.lines), tuple(context.secrets)))


def _finish_step(step: ProvisioningStep, context: StepContext, outcome: Outcome) -> None:
    state = Step.State.SKIPPED if outcome is Outcome.ALREADY_DONE else Step.State.SUCCEEDED
    with transaction.atomic():
        Step.objects.filter(pk=step.pk).update(state=state, output=_log(context), finished_at=timezone.now())
        Run.objects.filter(pk=step.run_id).update(updated_at=timezone.now())


def _fail_step(run: ProvisioningRun, step: ProvisioningStep, context: StepContext, error: Exception) -> None:
    message = str(error) if isinstance(error, StepFailed) else f"{type(error).__name__}: {error}"
    message = redact(message, tuple(context.secrets))
    now = timezone.now()
    with transaction.atomic():
        Step.objects.filter(pk=step.pk).update(
            state=Step.State.FAILED, output=_log(context), error=message, finished_at=now
        )
        Run.objects.filter(pk=run.pk, state=Run.State.RUNNING).update(
            state=Run.State.FAILED, error=f"{step.name}: {message}", finished_at=now
        )
    logger.warning(
        "provisioning step failed",
        extra={"run": run.pk, "step": step.name, "tenant": run.tenant.slug, "error": message},
    )
