"""A web worker killed in the middle of a checkout loses nothing and doubles nothing: its transaction
never commits (no order, no allocation, the cart kept), and the buyer's retry with the same
Idempotency-Key orders exactly once. The real app under gunicorn, killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import threading

import psycopg2
import pytest
from django.db import connection

from storefront.catalog.models import Product
from storefront.orders.models import CartItem, Order
from tests.conftest import wait_for
from tests.provisioning.conftest import server_connection
from tests.storefront.orders.conftest import add_product, fill_cart, shop
from tests.web_server import app_server, request

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("committed_tenancy")]
PAUSE_LOCK = 7_340_211


def _database_url() -> str:
    params = connection.settings_dict
    return f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}/{params['NAME']}"


def _checkouts_waiting(conn: psycopg2.extensions.connection) -> list[int]:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND wait_event = 'advisory' AND query ILIKE 'INSERT INTO \"orders_order\"%%'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _backend_alive(conn: psycopg2.extensions.connection, pid: int) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return bool(cursor.fetchone()[0])


def test_a_worker_killed_mid_checkout_leaves_no_order_and_the_retry_orders_once(
    make_store, buyer, in_store_of, tmp_path
):
    store = make_store()
    loaf = add_product(store, stock=3)
    schema = store.tenant.schema_name
    host = f"{store.tenant.slug}.localhost"
    token = buyer["token"]
    fill_cart(shop(store, buyer), (loaf, 2))
    control = server_connection(connection.settings_dict["NAME"])
    try:
        with control.cursor() as cursor:
            # Given checkouts made to wait inside their transaction, just before the order row is written
            cursor.execute(
                f'CREATE FUNCTION "{schema}".pause_checkout() RETURNS trigger LANGUAGE plpgsql AS '
                f"$$ BEGIN PERFORM pg_advisory_xact_lock({PAUSE_LOCK}); RETURN NULL; END $$"
            )
            cursor.execute(
                f'CREATE TRIGGER pause_checkout BEFORE INSERT ON "{schema}".orders_order'
                f' FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".pause_checkout()'
            )
            cursor.execute("SELECT pg_advisory_lock(%s)", [PAUSE_LOCK])
        with app_server("shop", _database_url(), tmp_path, 0, workers=1, threads=2, behind_pooler=False) as web:
            answers: list[object] = []
            body = {"fulfilment": "pickup", "payment": "local"}
            headers = {"Idempotency-Key": "retry-me"}

            def checkout() -> None:
                try:
                    answers.append(request(web.port, "POST", host, "/api/v1/checkout", token, body, headers=headers))
                except OSError as error:
                    answers.append(error)

            first = threading.Thread(target=checkout)
            first.start()
            (backend,) = wait_for(lambda: _checkouts_waiting(control), seconds=60, what="the checkout to pause")
            # When the worker serving it is killed
            (worker,) = web.worker_pids()
            os.kill(worker, signal.SIGKILL)
            first.join(timeout=30)
            assert answers and isinstance(answers[0], OSError)  # the buyer got no answer
            with control.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [PAUSE_LOCK])
            wait_for(lambda: not _backend_alive(control, backend), seconds=60, what="the killed checkout's session")
            with control.cursor() as cursor:
                cursor.execute(f'DROP TRIGGER pause_checkout ON "{schema}".orders_order')

            # Then nothing of it was committed: no order, nothing allocated, the cart as it was
            with in_store_of(store):
                assert not Order.objects.exists()
                assert Product.objects.values_list("allocated", flat=True).get() == 0
                assert list(CartItem.objects.values_list("product_id", "quantity")) == [(loaf, 2)]

            # And the buyer's retry with the same key orders once; a second retry is answered the same
            wait_for(lambda: web.worker_pids(), seconds=30, what="gunicorn to replace its worker")
            retried = request(web.port, "POST", host, "/api/v1/checkout", token, body, headers=headers)
            again = request(web.port, "POST", host, "/api/v1/checkout", token, body, headers=headers)
            assert retried[0] == 201 and again == retried
    finally:
        with control.cursor() as cursor:
            cursor.execute(f'DROP TRIGGER IF EXISTS pause_checkout ON "{schema}".orders_order')
            cursor.execute("SELECT pg_advisory_unlock_all()")
        control.close()
    with in_store_of(store):
        assert Order.objects.count() == 1
        assert Product.objects.values_list("allocated", flat=True).get() == 2
