"""Celery tasks of the Stripe integration: thin wrappers around billing.stripe_gateway.metering."""

from celery import shared_task
from django.conf import settings

from billing.stripe_gateway import metering


# Beat runs it every STRIPE_USAGE_REPORT_SECONDS; two at once share the work (SKIP LOCKED), and a worker
# killed mid-batch leaves its rows pending for the next run (same identifiers: Stripe counts them once).
@shared_task(name="stripe_gateway.report_usage", ignore_result=True)
def report_usage() -> int:
    if settings.BILLING_PROVIDER != "stripe" or not settings.STRIPE_SECRET_KEY:
        return 0
    return metering.report_usage().sent
