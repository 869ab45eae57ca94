"""Celery tasks of the catalog. Each runs in the schema of the store that queued it (tenant-schemas-celery)."""

from celery import shared_task
from django.conf import settings

from storefront.catalog import import_inbox, imports
from tenants.models import Tenant


@shared_task(name="catalog.import_products", ignore_result=True)
def import_products(job_id: int) -> None:
    imports.run_import(job_id)


@shared_task(name="catalog.scan_import_inbox", ignore_result=True)
def scan_import_inbox() -> None:
    """Import the CSV files waiting in this store's inbox (`imports/incoming/`)."""
    import_inbox.scan_inbox()


@shared_task(name="catalog.scan_import_inboxes", ignore_result=True)
def scan_import_inboxes() -> int:
    """On beat, in `public`: queue an inbox scan in every live shared store's schema."""
    live = Tenant.objects.filter(status=Tenant.Status.ACTIVE, tenancy=Tenant.Tenancy.SHARED).exclude(
        schema_name="public"
    )
    # A scan not started before the next round is dropped rather than piled up behind it.
    expires = max(settings.CATALOG_IMPORT_INBOX_SECONDS, 1)
    count = 0
    for schema in live.values_list("schema_name", flat=True).iterator(chunk_size=1000):
        scan_import_inbox.apply_async(headers={"_schema_name": schema}, expires=expires)
        count += 1
    return count
