"""Two drains of one store at once (two workers took a drain task each): one drains at a time, and
every outbox row is published exactly once."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from django_tenants.utils import tenant_context

from storefront.catalog.models import Product
from storefront.marketplace.models import Listing, PendingPublication
from storefront.marketplace.services import ListingRecord, Seller
from storefront.publishing.drain import drain_listing_changes
from storefront.publishing.models import ListingChange
from storefront.publishing.publishers import IndexPublisher
from tenants.db_backend import connection
from tests.conftest import wait_for

pytestmark = [pytest.mark.usefixtures("committed_tenancy"), pytest.mark.django_db(transaction=True)]


class GatedPublisher:
    """The index publisher, noting every batch; the first batch waits, its transaction open, until let go."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, list[int]]] = []
        self.overlapping = 0
        self.first_inside = threading.Event()
        self.let_go = threading.Event()
        self.first_backend_pid = 0
        self._inside = 0
        self._lock = threading.Lock()

    def publish(self, tenant_id: int, version: int, records: Sequence[ListingRecord], seller: Seller) -> None:
        with self._lock:
            self._inside += 1
            self.overlapping += self._inside > 1
            first = not self.batches
            self.batches.append((version, [record.product_id for record in records]))
        try:
            if first:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    (self.first_backend_pid,) = cursor.fetchone()
                self.first_inside.set()
                assert self.let_go.wait(60), "the test never let the first batch go"
            IndexPublisher().publish(tenant_id, version, records, seller)
        finally:
            with self._lock:
                self._inside -= 1


def blocked_by(backend_pid: int) -> int:
    """How many database sessions are waiting for a lock `backend_pid` holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is snapshotted per transaction
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [backend_pid])
        return int(cursor.fetchone()[0])


def test_two_drains_of_one_store_take_turns_and_publish_each_change_once(make_store):
    # Given four changed products in a store's outbox, drained two per transaction, and no pending flag
    # (whose row lock would also hold a second drain back, at the first batch only: this is the drain lock)
    store = make_store()
    with tenant_context(store.tenant):
        products = Product.objects.bulk_create(
            Product(title=f"Oak spoon {n}", price=900, sku=f"SPOON-{n}", status="active") for n in range(4)
        )
        ListingChange.objects.bulk_create(ListingChange(product_id=product.pk) for product in products)
    connection.set_schema_to_public()
    publisher = GatedPublisher()
    start = threading.Barrier(2)
    drained: list[int] = []
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            start.wait(timeout=30)
            with tenant_context(store.tenant):
                drained.append(drain_listing_changes(publisher, batch_size=2))
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    # When two drains start together, and the first to publish holds its transaction open until the
    # other has tried (it waits on a lock the first holds, or, with nothing holding it back, is done)
    threads = [threading.Thread(target=drain, name=f"drain-{n}") for n in (1, 2)]
    for thread in threads:
        thread.start()
    try:
        assert publisher.first_inside.wait(60), "no drain reached the publisher"
        wait_for(
            lambda: blocked_by(publisher.first_backend_pid) or len(drained) + len(errors) == 1,
            what="the second drain to try",
        )
    finally:
        publisher.let_go.set()
        for thread in threads:
            thread.join(timeout=60)

    # Then no batch was published while another drain's batch was, each change was published once, in
    # batches whose versions rise in the order they were published, and the outbox and flag are empty
    assert not errors, errors
    assert publisher.overlapping == 0, f"drains overlapped: {publisher.batches}"
    published = [product_id for _, product_ids in publisher.batches for product_id in product_ids]
    assert sorted(published) == sorted(product.pk for product in products)
    versions = [version for version, _ in publisher.batches]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    # (the waiting drain is first in the lock's queue: it takes the next batch, the first finds none left)
    assert drained == [2, 2]
    assert Listing.objects.filter(tenant_id=store.tenant.pk).count() == 4
    with tenant_context(store.tenant):
        assert not ListingChange.objects.exists()
    assert not PendingPublication.objects.exists()
