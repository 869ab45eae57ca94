"""Celery tasks of buyers' order history (public schema)."""

from celery import shared_task

from storefront.messages import services as messages
from storefront.orders import services as orders
from storefront.publishing.order_history import queue_order_drain
from storefront.purchases.models import PendingOrderChanges


@shared_task(name="purchases.sweep_pending_order_changes", ignore_result=True)
def sweep_pending_order_changes() -> int:
    """Queue a drain for every store flagged as having order changes (a lost or failed drain is retried
    here). Reads only the flagged stores: cheap however many tenants there are."""
    schemas = list(PendingOrderChanges.objects.order_by("marked_at").values_list("schema_name", flat=True)[:5000])
    for schema in schemas:
        queue_order_drain(schema)
    return len(schemas)


@shared_task(name="purchases.anonymise_closed_buyer", ignore_result=True)
def anonymise_closed_buyer(buyer_id: int) -> int:
    """In one store's schema (tenant-schemas-celery): a closed account's orders and threads there lose who the
    buyer was."""
    messages.forget_buyer(buyer_id)
    return orders.anonymise_buyer(buyer_id)
