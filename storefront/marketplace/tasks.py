"""Celery tasks of the marketplace index (public schema)."""

from celery import shared_task

from storefront.marketplace.models import PendingPublication


@shared_task(name="marketplace.sweep_pending_publications", ignore_result=True)
def sweep_pending_publications() -> int:
    """Queue a drain for every store flagged as pending (a lost or failed drain is retried here). Reads
    only the flagged stores: cheap however many tenants there are."""
    from storefront.publishing.services import queue_drain

    schemas = list(PendingPublication.objects.order_by("marked_at").values_list("schema_name", flat=True)[:5000])
    for schema in schemas:
        queue_drain(schema)
    return len(schemas)
