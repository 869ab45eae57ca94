"""The outbox drained by real Celery workers: a product change reaches search through a worker, and a
worker killed mid-drain loses and duplicates nothing once another worker (and the sweep) take over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from storefront.catalog.models import Product
from storefront.marketplace.models import Listing, PendingPublication
from storefront.marketplace.services import ListingRecord, Seller, publish_listings
from storefront.marketplace.tasks import sweep_pending_publications
from storefront.publishing.models import ListingChange
from storefront.publishing.services import record_product_changes
from tests.conftest import purge_broker, sessions_waiting_for_my_locks, wait_for
from tests.storefront.conftest import client_for
from tests.storefront.marketplace.conftest import search, titles

pytestmark = [pytest.mark.usefixtures("committed_tenancy"), pytest.mark.django_db(transaction=True)]


def outbox_size(tenant) -> int:
    with tenant_context(tenant):
        return ListingChange.objects.count()


def test_a_product_saved_through_the_api_is_searchable_after_a_worker_drains(make_store, root_api, celery_worker):
    store = make_store(town="Todmorden", postcode="OL14 5AA")
    api = client_for(store, store.token)

    with celery_worker():
        response = api.post(
            "/api/v1/products", {"title": "Celadon mug", "price": 2400, "sku": "MUG", "status": "active"}, format="json"
        )
        assert response.status_code == 201
        connection.set_schema_to_public()
        body = wait_for(lambda: search(root_api, q="celadon")["count"] and search(root_api, q="celadon"), what="drain")

    assert titles(body) == ["Celadon mug"]
    assert outbox_size(store.tenant) == 0
    assert not PendingPublication.objects.exists()


def session_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s)", [pid])
        return bool(cursor.fetchone()[0])


@pytest.mark.slow
def test_a_worker_killed_mid_drain_loses_and_duplicates_nothing(make_store, root_api):
    # Given 3,000 committed product changes waiting in the outbox (drained 100 per transaction, in the
    # order they were recorded), and a listing of the 251st product being written, not yet committed
    store = make_store()
    purge_broker()
    with tenant_context(store.tenant):
        products = Product.objects.bulk_create(
            Product(title=f"Knitted beanie {n}", price=1500, sku=f"HAT-{n}", status="active") for n in range(3000)
        )
        record_product_changes(product.pk for product in products)
    connection.set_schema_to_public()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "MARKETPLACE_DRAIN_BATCH_SIZE": "100",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"]
    with transaction.atomic():
        # The drain's third batch must wait for this row's lock: that pins the worker inside a batch
        # transaction that has cleared the pending flag, claimed its rows and started writing listings.
        publish_listings(store.tenant.pk, 0, [ListingRecord.withdrawn(products[250].pk)], Seller())
        worker = subprocess.Popen(command, cwd=Path(settings.BASE_DIR), env=env)
        try:
            # When the worker is killed (SIGKILL) there, two batches committed and the third half done
            (drain_session,) = wait_for(sessions_waiting_for_my_locks, what="the drain to reach its third batch")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
            # Its session would notice the dead client only at its next write; end it as that would.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [drain_session])
            wait_for(lambda: session_gone(drain_session), what="the killed worker's session to end")
        finally:
            worker.kill()
            worker.wait(timeout=10)
        transaction.set_rollback(True)
    left = outbox_size(store.tenant)
    published = Listing.objects.filter(tenant=store.tenant).count()

    # Then exactly the two committed batches left the outbox and are listed, and the store is still
    # flagged pending (the third batch's clearing of the flag rolled back with the rest of it)
    assert (published, left) == (200, 2800)
    assert Listing.objects.filter(tenant=store.tenant, is_listed=True).count() == 200
    assert PendingPublication.objects.filter(tenant_id=store.tenant.pk).exists()

    # And a new worker, woken by the beat sweep, finishes the rest once each
    worker = subprocess.Popen(command, cwd=Path(settings.BASE_DIR), env=env)
    try:
        assert sweep_pending_publications() == 1
        # (a drain whose last batch was full looks once more, and only then clears the store's flag)
        wait_for(
            lambda: outbox_size(store.tenant) == 0 and not PendingPublication.objects.exists(),
            what="the rest of the drain",
        )
    finally:
        worker.kill()
        worker.wait(timeout=10)

    assert Listing.objects.filter(tenant=store.tenant, is_listed=True).count() == 3000
    assert search(root_api, q="beanie")["count"] == 3000
    assert not PendingPublication.objects.exists()


def _database_url() -> str:
    params = connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}/{params['NAME']}"
