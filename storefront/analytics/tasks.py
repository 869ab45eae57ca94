"""Celery tasks of product analytics. ``roll_up_product_events`` runs in the schema of the store it was
queued for (tenant-schemas-celery); the beat task queues it for the stores with events waiting."""

from celery import shared_task
from django.conf import settings

from storefront.analytics import services
from tenants.models import Tenant


@shared_task(name="analytics.roll_up_product_events", ignore_result=True)
def roll_up_product_events() -> int:
    return services.roll_up_product_events()


@shared_task(name="analytics.roll_up_everywhere", ignore_result=True)
def roll_up_everywhere() -> int:
    """On beat, in `public`: queue the rollup in each live shared store with events waiting in Redis (a
    dedicated stack's store is its `public`)."""
    if settings.TENANCY_MODE == "dedicated":
        return services.roll_up_product_events()
    waiting = services.stores_with_events()
    live = Tenant.objects.filter(schema_name__in=waiting, status=Tenant.Status.ACTIVE, tenancy=Tenant.Tenancy.SHARED)
    count = 0
    for schema in live.values_list("schema_name", flat=True).iterator(chunk_size=1000):
        roll_up_product_events.apply_async(headers={"_schema_name": schema}, expires=60)
        count += 1
    return count
