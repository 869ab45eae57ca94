"""Celery tasks of the tenant registry."""

from celery import shared_task

from tenants import schema_pool


@shared_task(name="tenants.refill_schema_pool", ignore_result=True)
def refill_schema_pool() -> int:
    # One refill at a time, whoever calls it: the service takes the lock.
    return schema_pool.refill_schema_pool()
