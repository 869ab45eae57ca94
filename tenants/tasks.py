"""Celery tasks of the tenant registry."""

from celery import shared_task

from tenants import schema_pool


@shared_task(name="tenants.refill_schema_pool", ignore_result=True)
def refill_schema_pool() -> int:
    # Refills run one at a time: a second one waiting on the lock would only add surplus schemas.
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext('tenants.refill_schema_pool'))")
            (locked,) = cursor.fetchone()
        if not locked:
            return 0
        return schema_pool.refill_schema_pool()
