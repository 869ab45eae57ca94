"""The outbox drained by real Celery workers: a product change reaches search through a worker, and a
worker killed mid-drain loses and duplicates nothing once another worker (and the sweep) take over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from config.celery import app
from storefront.catalog.models import Product
from storefront.marketplace.models import Listing, PendingPublication
from storefront.marketplace.tasks import sweep_pending_publications
from storefront.publishing.models import ListingChange
from storefront.publishing.services import record_product_changes
from tests.storefront.conftest import client_for
from tests.storefront.marketplace.conftest import search, titles

pytestmark = [pytest.mark.usefixtures("committed_tenancy"), pytest.mark.django_db(transaction=True)]


def wait_for(condition, seconds: float = 60, what: str = "condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def outbox_size(tenant) -> int:
    with tenant_context(tenant):
        return ListingChange.objects.count()


def test_a_product_saved_through_the_api_is_searchable_after_a_worker_drains(make_store, root_api):
    store = make_store(town="Todmorden", postcode="OL14 5AA")
    api = client_for(store, store.token)
    app.control.purge()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = api.post(
            "/api/v1/products", {"title": "Celadon mug", "price": 2400, "sku": "MUG", "status": "active"}, format="json"
        )
        assert response.status_code == 201
        connection.set_schema_to_public()
        body = wait_for(lambda: search(root_api, q="celadon")["count"] and search(root_api, q="celadon"), what="drain")

    assert titles(body) == ["Celadon mug"]
    assert outbox_size(store.tenant) == 0
    assert not PendingPublication.objects.exists()


@pytest.mark.slow
def test_a_worker_killed_mid_drain_loses_and_duplicates_nothing(make_store, root_api):
    # Given 3,000 committed product changes waiting in the outbox (drained 100 per transaction)
    store = make_store()
    app.control.purge()
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
    worker = subprocess.Popen(command, cwd=Path(settings.BASE_DIR), env=env)
    try:
        # When the worker is killed (SIGKILL) part-way through the drain
        wait_for(lambda: 0 < outbox_size(store.tenant) < 2500, what="the drain to start")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        left = outbox_size(store.tenant)
        published = Listing.objects.filter(tenant=store.tenant).count()

        # Then what committed is exactly what left the outbox, and the store is still flagged pending
        assert 0 < left < 3000 and published + left == 3000
        assert PendingPublication.objects.filter(tenant_id=store.tenant.pk).exists()

        # And a new worker, woken by the beat sweep, finishes the rest once each
        worker = subprocess.Popen(command, cwd=Path(settings.BASE_DIR), env=env)
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
