"""Celery tasks of marketplace publishing; each runs in the schema of the store that queued it."""

from celery import shared_task

from storefront.publishing import drain


@shared_task(name="publishing.drain_listing_changes", ignore_result=True)
def drain_listing_changes() -> int:
    return drain.drain_listing_changes()
