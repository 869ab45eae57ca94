"""Celery tasks of the store's outboxes (listings, buyers' orders), each run in its store's schema."""

from celery import shared_task

from storefront.publishing import drain, order_history


@shared_task(name="publishing.drain_listing_changes", ignore_result=True)
def drain_listing_changes() -> int:
    return drain.drain_listing_changes()


@shared_task(name="publishing.drain_order_changes", ignore_result=True)
def drain_order_changes() -> int:
    return order_history.drain_order_changes()
