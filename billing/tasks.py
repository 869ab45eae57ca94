"""Celery beat jobs of billing (in `public`): closing ended periods, the dunning grace period, the
usage the platform measures (API requests counted in Redis, storage measured daily), and on a dedicated
stack, handing its store's usage to the platform's bill."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from billing import api_metering, dunning, invoicing, storage_metering, usage_forwarding


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


# Both are safe to repeat or to run twice at once (see their modules): a killed worker's run is redone.
@shared_task(name="billing.flush_api_request_counts", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def flush_api_request_counts() -> int:
    return api_metering.flush_api_request_counts()


@shared_task(name="billing.measure_storage", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def measure_storage(now: str | None = None) -> int:
    return storage_metering.record_daily_storage(_moment(now))


# Scheduled on a dedicated stack only (config/settings.py). Safe to repeat or to run twice at once: the
# platform counts each event once per key, and events are marked forwarded only once it took them.
@shared_task(name="billing.forward_usage", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def forward_usage() -> int:
    return usage_forwarding.forward_usage()
