"""Buyers' order history fed by real Celery workers: checkouts and moves committed over the stores' APIs reach
the buyer's history through the drain each queues on commit, and changes whose drain was lost (the broker
emptied) are picked up by the beat sweep."""

from __future__ import annotations

import pytest

from storefront.purchases.models import PendingOrderChanges
from storefront.purchases.tasks import sweep_pending_order_changes
from tests.conftest import purge_broker, wait_for
from tests.storefront.orders.conftest import add_product
from tests.storefront.purchases.conftest import history, move, outbox, place, seen

pytestmark = [pytest.mark.usefixtures("committed_tenancy"), pytest.mark.django_db(transaction=True)]


def test_orders_in_two_stores_reach_the_buyers_history_through_a_worker(make_store, make_buyer, celery_worker):
    bakery = make_store(store_name="Hebden Bakery")
    pottery = make_store(store_name="Todmorden Pottery")
    ada, bob = make_buyer(), make_buyer()
    loaf = add_product(bakery, price=450)
    bowl = add_product(pottery, price=3600)

    with celery_worker():
        # When Ada orders from the bakery, then the pottery, and the bakery marks her order paid
        bread = place(bakery, ada, (loaf, 1))
        pots = place(pottery, ada, (bowl, 1))
        assert move(bakery, bread["id"], "paid").status_code == 200
        expected = [("Todmorden Pottery", pots["number"], "placed"), ("Hebden Bakery", bread["number"], "paid")]
        # Then the worker's drains bring both to her history, the newest first
        wait_for(lambda: seen(ada["token"]) == expected, what="the drains")

    assert outbox(bakery) == outbox(pottery) == []
    assert not PendingOrderChanges.objects.exists()
    # And another buyer sees none of them
    assert history(bob["token"]).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_changes_whose_drain_was_lost_are_swept(make_store, buyer, celery_worker):
    # Given an order placed while its drain never reached a worker (the queued task lost with the broker)
    store = make_store(store_name="Hebden Bakery")
    loaf = add_product(store)
    order = place(store, buyer, (loaf, 1))
    purge_broker()
    assert PendingOrderChanges.objects.filter(tenant_id=store.tenant.pk).exists()

    with celery_worker():
        # When the beat sweep runs
        assert sweep_pending_order_changes() == 1
        # Then a worker drains it
        wait_for(lambda: seen(buyer["token"]) == [("Hebden Bakery", order["number"], "placed")], what="the sweep")

    assert outbox(store) == []
    assert not PendingOrderChanges.objects.exists()
