"""Celery tasks of orders. Each runs in the schema of the store that queued it (tenant-schemas-celery)."""

from celery import shared_task
from django.conf import settings

from storefront.orders import notifications, services
from tenants.models import Tenant


@shared_task(
    name="orders.notify_buyer", ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_buyer(order_id: int, status: str) -> None:
    notifications.notify_buyer(order_id, status)


@shared_task(name="orders.release_expired_reservations", ignore_result=True)
def release_expired_reservations() -> int:
    return services.release_expired_reservations()


@shared_task(name="orders.release_expired_reservations_everywhere", ignore_result=True)
def release_expired_reservations_everywhere() -> int:
    """On beat, in `public`: queue the release in every live shared store's schema (a dedicated stack's
    store is its `public`)."""
    if settings.TENANCY_MODE == "dedicated":
        return services.release_expired_reservations()
    live = Tenant.objects.filter(status=Tenant.Status.ACTIVE, tenancy=Tenant.Tenancy.SHARED).exclude(
        schema_name="public"
    )
    count = 0
    for schema in live.values_list("schema_name", flat=True).iterator(chunk_size=1000):
        release_expired_reservations.apply_async(headers={"_schema_name": schema}, expires=60)
        count += 1
    return count
