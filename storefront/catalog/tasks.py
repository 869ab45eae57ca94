"""Celery tasks of the catalog. Each runs in the schema of the store that queued it (tenant-schemas-celery)."""

from celery import shared_task

from storefront.catalog import imports


@shared_task(name="catalog.import_products", ignore_result=True)
def import_products(job_id: int) -> None:
    imports.run_import(job_id)
