"""Celery beat jobs of billing (in `public`): closing ended periods and the dunning grace period."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from billing import dunning, invoicing


def _moment(now: str | None) -> datetime | None:
    return datetime.fromisoformat(now) if now else None


# acks_late + reject_on_worker_lost: a killed worker's sweep is delivered again, and a sweep is safe to
# repeat (a closed period is never closed twice; unfinished invoices are finished).
@shared_task(name="billing.close_due_periods", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def close_due_periods(now: str | None = None) -> int:
    return invoicing.close_due_periods(_moment(now))


@shared_task(name="billing.enforce_grace_period", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def enforce_grace_period(now: str | None = None) -> int:
    return dunning.enforce_grace_period(_moment(now))
