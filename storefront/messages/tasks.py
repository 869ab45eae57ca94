"""Celery tasks of messages. Each runs in the schema of the store that queued it (tenant-schemas-celery)."""

from celery import shared_task

from storefront.messages import notifications
from tenants.db_backend import connection
from tenants.routing import platform_url, store_url


@shared_task(name="messages.mail_side", ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def mail_side(thread_id: int, recipient: str) -> int:
    tenant = getattr(connection, "tenant", None)
    slug = getattr(tenant, "slug", "")
    name = getattr(tenant, "name", "") or "the store"
    url = (store_url(slug) if slug else platform_url()).rstrip("/")
    return notifications.mail_side(thread_id, recipient, name, url)
