"""Tenant isolation through a real PgBouncer in transaction pooling mode.

ARCHITECTURE.md promises that the app is safe behind a transaction-pooling PgBouncer: every transaction
(and every autocommit statement) carries its own ``SET LOCAL search_path`` in the same round trip, so a
pooled server connection never lends one tenant's path to another tenant's request. These tests start
Debian's pgbouncer with a pool far smaller than the number of clients, serve the real app through it with
gunicorn, hammer several stores at once and check every answer and, bypassing the pooler, every schema.

Negative controls prove the checks can fail: django-tenants' stock backend (a session-level
``SET search_path`` on a round trip of its own) is run through the same pooler and must be caught leaking,
both at the connection level and over HTTP, each time deterministically (clients made to queue in
PgBouncer for one server connection, then let go together).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django_tenants.postgresql_backend.base import DatabaseWrapper as StockTenantsWrapper
from django_tenants.utils import quote_schema_name

from onboarding.services import sign_up_merchant
from storefront.catalog.models import Product
from tenants.db_backend.base import DatabaseWrapper as PoolerSafeWrapper
from tenants.models import Tenant
from tests.conftest import signup_request, wait_for
from tests.web_server import Server, app_server, free_port, log_tail, request, stop_process

pytestmark = [pytest.mark.pgbouncer, pytest.mark.slow]

PGBOUNCER = Path("/usr/sbin/pgbouncer")
# Far fewer server connections than clients, so every server connection is shared all the time.
POOL_SIZE = 3
# Per gunicorn server: 2 workers x 8 threads (app_server's default), each thread its own connection to PgBouncer.
STARTUP_TIMEOUT = 20.0

# The negative-control server: identical settings but for django-tenants' stock, session-level backend.
STOCK_SETTINGS_SOURCE = '''"""Negative control: the app on django-tenants' stock, session-level backend."""

from config.settings import *  # noqa: F403

DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"  # noqa: F405
# A reused connection's first statement in a request is then the backend's own SET (no health check).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
'''


# --- PgBouncer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bouncer:
    port: int
    database: str  # pooled with POOL_SIZE server connections
    single_database: str  # the same database with a single server connection, for deterministic checks

    def url(self, database: str | None = None, **params: str) -> str:
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return f"postgres://postgres@127.0.0.1:{self.port}/{database or self.database}" + (f"?{query}" if query else "")

    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={self.database} user=postgres"


def bouncer_ini(port: int, real_name: str, single_name: str) -> str:
    # The upstream is the server the test database is on: TCP, or a Unix socket directory (embedded).
    db = connection.settings_dict
    host, port_ = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    server = f"host={host} port={port_} user={db.get('USER') or 'postgres'} dbname={real_name}"
    return f"""[databases]
{real_name} = {server} pool_size={POOL_SIZE}
{single_name} = {server} pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
; any: no client authentication; every database above logs in to PostgreSQL as postgres (trust).
auth_type = any
pool_mode = transaction
default_pool_size = {POOL_SIZE}
reserve_pool_size = 0
max_client_conn = 500
; psycopg2/libpq may send these; PgBouncer 1.18 would refuse the connection otherwise.
ignore_startup_parameters = extra_float_digits,options
server_round_robin = 1
; SHOW POOLS on the admin console: how many clients wait for a server connection.
stats_users = postgres
"""


def bouncer_user_args() -> list[str]:
    # PgBouncer refuses to run as root ("PgBouncer should not run as root"): drop to an unprivileged user.
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["-u", name]
    pytest.fail("running as root and neither a 'postgres' nor a 'nobody' user exists for pgbouncer -u")


def wait_for_bouncer(process: subprocess.Popen[bytes], port: int, database: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited with {process.returncode}:\n{log_tail(log)}")
        try:
            probe = psycopg2.connect(host="127.0.0.1", port=port, dbname=database, user="postgres", connect_timeout=2)
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                pytest.fail(f"pgbouncer did not accept connections within {STARTUP_TIMEOUT}s:\n{log_tail(log)}")
            time.sleep(0.1)
            continue
        try:
            probe.autocommit = True
            with probe.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            probe.close()
        return


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bouncer]:
    """Debian's pgbouncer in transaction pooling mode in front of the test database, as a child process."""
    if not PGBOUNCER.exists():
        # A missing pooler must not pass silently as a skip: the isolation guarantee would go unproven.
        pytest.fail(f"Debian's pgbouncer is required at {PGBOUNCER}: apt-get install pgbouncer")
    real_name = connection.settings_dict["NAME"]
    single_name = f"{real_name}_single"
    port = free_port()
    workdir = tmp_path_factory.mktemp("pgbouncer")
    # pgbouncer reads its ini before -u drops privileges, so a private temp dir is fine.
    ini = workdir / "pgbouncer.ini"
    ini.write_text(bouncer_ini(port, real_name, single_name))
    log = workdir / "pgbouncer.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(PGBOUNCER), *bouncer_user_args(), str(ini)], stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        wait_for_bouncer(process, port, real_name, log)
        yield Bouncer(port=port, database=real_name, single_database=single_name)
    finally:
        stop_process(process)


# --- The app served by gunicorn through PgBouncer -----------------------------------------------------


# --- Stores ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    slug: str
    schema: str
    token: str
    tenant: Tenant

    @property
    def host(self) -> str:
        return f"{self.slug}.localhost"

    @property
    def marker(self) -> str:
        # Brackets keep markers apart: "[corner1]" is not a prefix of "[corner12]".
        return f"[{self.slug}]"


def sign_up_stores(count: int) -> list[Store]:
    stores = []
    for _ in range(count):
        result = sign_up_merchant(signup_request())
        assert result.token
        stores.append(
            Store(slug=result.tenant.slug, schema=result.tenant.schema_name, token=result.token, tenant=result.tenant)
        )
    return stores


def seed_products(stores: list[Store], per_store: int) -> None:
    """Committed products in each store, written directly (not through the pooler)."""
    for store in stores:
        connection.set_tenant(store.tenant)
        for n in range(per_store):
            Product.objects.create(
                title=f"{store.marker} seed {n}",
                description=store.marker,
                sku=f"{store.slug}-seed-{n}",
                price=100 + n,
                status=Product.Status.ACTIVE,
            )
    connection.set_schema_to_public()


def value(body: Any, key: str) -> Any:
    """A field of a JSON answer, or None when the answer was not a JSON object (e.g. an HTML error page)."""
    return body.get(key) if isinstance(body, dict) else None


def foreign_rows(store: Store, listing: Any) -> list[str]:
    """Titles in a product listing that do not belong to `store` (a malformed listing counts as one)."""
    results = value(listing, "results")
    if not isinstance(results, list):
        return [f"malformed listing {listing!r}"]
    return [str(value(row, "title")) for row in results if value(row, "description") != store.marker]


def products_by_schema() -> dict[str, list[tuple[str, str, str]]]:
    """Every catalog_product row in the database, read directly (bypassing PgBouncer), by schema."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = 'catalog_product'")
        schemas = [name for (name,) in cursor.fetchall()]
        rows: dict[str, list[tuple[str, str, str]]] = {}
        for schema in schemas:
            cursor.execute(f"SELECT sku, title, description FROM {quote_schema_name(schema)}.catalog_product")
            rows[schema] = list(cursor.fetchall())
    return rows


# --- Connection-level checks: deterministic, one server connection shared by two clients -------------


def bouncer_wrapper(
    wrapper_class: type[BaseDatabaseWrapper], bouncer: Bouncer, database: str, alias: str
) -> BaseDatabaseWrapper:
    """A Django connection of the given backend class that reaches the test database through PgBouncer."""
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": wrapper_class.__module__.rsplit(".", 1)[0],
        "HOST": "127.0.0.1",
        "PORT": bouncer.port,
        "NAME": database,
        "CONN_MAX_AGE": 0,
        "DISABLE_SERVER_SIDE_CURSORS": True,
    }
    wrapper = wrapper_class(settings_dict, alias=alias)
    # Registered under its alias: django.contrib.postgres looks the connection up by alias when it connects.
    connections[alias] = wrapper
    return wrapper


def forget(*wrappers: BaseDatabaseWrapper) -> None:
    for wrapper in wrappers:
        wrapper.close()
        del connections[wrapper.alias]


def interleaved_reads(wrapper_class: type[BaseDatabaseWrapper], bouncer: Bouncer, a: Store, b: Store) -> list[str]:
    """Store a's client reads its products right after store b's client used the only server connection."""
    client_a = bouncer_wrapper(wrapper_class, bouncer, bouncer.single_database, "pgb_client_a")
    client_b = bouncer_wrapper(wrapper_class, bouncer, bouncer.single_database, "pgb_client_b")
    try:
        client_a.set_tenant(a.tenant)
        client_b.set_tenant(b.tenant)
        with client_a.cursor() as cursor_a, client_b.cursor() as cursor_b:
            cursor_b.execute("SELECT count(*) FROM catalog_product")
            cursor_a.execute("SELECT description FROM catalog_product")
            return [description for (description,) in cursor_a.fetchall()]
    finally:
        forget(client_a, client_b)


def test_stock_backend_leaks_through_the_pooler_and_ours_does_not(pgbouncer: Bouncer, committed_tenancy: None) -> None:
    a, b = sign_up_stores(2)
    seed_products([a, b], per_store=2)

    # django-tenants sends `SET search_path` on its own round trip; behind a transaction pooler it lands
    # on the shared server connection, where the other client's SET then overwrites it.
    stock = interleaved_reads(StockTenantsWrapper, pgbouncer, a, b)
    assert stock and set(stock) == {b.marker}, f"negative control: the stock backend should read b's rows: {stock}"

    ours = interleaved_reads(PoolerSafeWrapper, pgbouncer, a, b)
    assert ours and set(ours) == {a.marker}, f"store {a.slug} read {ours} through the pooler"


def test_path_survives_rolling_back_to_a_savepoint(pgbouncer: Bouncer, committed_tenancy: None) -> None:
    """ROLLBACK TO SAVEPOINT undoes a SET LOCAL made after the savepoint; the path must be sent again."""
    (store,) = sign_up_stores(1)
    seed_products([store], per_store=1)
    client = bouncer_wrapper(PoolerSafeWrapper, pgbouncer, pgbouncer.database, "pgb_savepoints")
    try:
        client.set_autocommit(False)
        client.set_schema_to_public()
        with client.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM tenants_tenant")
        savepoint = client.savepoint()
        client.set_tenant(store.tenant)
        with client.cursor() as cursor:
            cursor.execute("SELECT description FROM catalog_product")
        # A rollback without a database error (e.g. an exception raised in Python inside atomic()).
        client.savepoint_rollback(savepoint)
        with client.cursor() as cursor:
            cursor.execute("SELECT description FROM catalog_product")
            assert [row[0] for row in cursor.fetchall()] == [store.marker]
        client.rollback()
    finally:
        forget(client)


# --- The hammer -----------------------------------------------------------------------------------------


@dataclass
class HammerLog:
    """What one client thread saw: problems, and the products it expects each schema to hold at the end."""

    problems: list[str] = field(default_factory=list)
    kept: dict[str, set[str]] = field(default_factory=dict)
    requests: int = 0


def hammer_products(server: Server, stores: list[Store], worker: int, rounds: int) -> HammerLog:
    """Create, read, list, update and delete products across stores, checking every answer."""
    log = HammerLog()

    def call(store: Store, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        log.requests += 1
        return request(server.port, method, store.host, path, store.token, body)

    for i in range(rounds):
        store = stores[(worker + i) % len(stores)]
        sku = f"{store.slug}-{server.label}-{worker}-{i}"
        where = f"{server.label} worker {worker} round {i} on {store.slug}"
        body = {"title": f"{store.marker} {sku}", "description": store.marker, "sku": sku, "price": 100 + i}
        status, created = call(store, "POST", "/api/v1/products", {**body, "stock": 1, "status": "active"})
        if status != 201 or value(created, "sku") != sku or value(created, "description") != store.marker:
            log.problems.append(f"{where}: create answered {status} {created}")
            continue
        product = f"/api/v1/products/{created['id']}"

        status, listing = call(store, "GET", "/api/v1/products")
        if status != 200:
            log.problems.append(f"{where}: list answered {status} {listing}")
        elif foreign := foreign_rows(store, listing):
            log.problems.append(f"{where}: list showed other stores' products {foreign}")

        status, fetched = call(store, "GET", product)
        if status != 200 or value(fetched, "sku") != sku or value(fetched, "description") != store.marker:
            log.problems.append(f"{where}: read answered {status} {fetched}")

        status, patched = call(store, "PATCH", product, {"stock": 7})
        if status != 200 or value(patched, "sku") != sku or value(patched, "stock") != 7:
            log.problems.append(f"{where}: update answered {status} {patched}")

        if i % 3 == 2:
            # A write in transaction.atomic even on the autocommit server: Collector.delete can't take its
            # fast path because django-tenants registers a post_delete receiver for every model.
            deleted, _ = call(store, "DELETE", product)
            if deleted != 204:
                log.problems.append(f"{where}: delete answered {deleted}")
            status, gone = call(store, "GET", product)
            if status != 404:
                log.problems.append(f"{where}: deleted product still answered {status} {gone}")
            if deleted == 204:
                continue
        log.kept.setdefault(store.schema, set()).add(sku)
    return log


def run_hammer(
    servers: list[Server], threads_per_server: int, work: Callable[[Server, int], HammerLog]
) -> list[HammerLog]:
    with ThreadPoolExecutor(max_workers=threads_per_server * len(servers)) as pool:
        futures = [pool.submit(work, server, n) for server in servers for n in range(threads_per_server)]
        return [future.result() for future in futures]


def poison_server_connections(bouncer: Bouncer, stores: list[Store]) -> None:
    """Leave a session-level search_path of some store on every pooled server connection.

    Holding POOL_SIZE transactions open at once makes PgBouncer use every server connection; a plain SET
    outlives its transaction. A request that ever ran without its own path would then read another
    store's tables silently instead of failing loudly.
    """
    clients = [psycopg2.connect(bouncer.dsn()) for _ in range(POOL_SIZE)]
    try:
        for n, client in enumerate(clients):
            with client.cursor() as cursor:
                cursor.execute(f"SET search_path = {quote_schema_name(stores[n % len(stores)].schema)}, public")
        for client in clients:
            client.commit()
    finally:
        for client in clients:
            client.close()


def test_concurrent_tenants_never_cross_through_transaction_pooling(
    pgbouncer: Bouncer, committed_tenancy: None, tmp_path: Path
) -> None:
    stores = sign_up_stores(6)
    seed_products(stores, per_store=3)
    poison_server_connections(pgbouncer, stores)

    # Two servers hammered at once share PgBouncer's three server connections: one in autocommit (each
    # statement its own pooled transaction, persistent connections), one with ATOMIC_REQUESTS (every
    # request one transaction, a new connection per request).
    with (
        app_server("autocommit", pgbouncer.url(), tmp_path, conn_max_age=60) as autocommit,
        app_server("atomic", pgbouncer.url(ATOMIC_REQUESTS="1"), tmp_path, conn_max_age=0) as atomic,
    ):
        started = time.monotonic()
        logs = run_hammer(
            [autocommit, atomic], 12, lambda server, n: hammer_products(server, stores, worker=n, rounds=9)
        )
        elapsed = time.monotonic() - started

    problems = [problem for log in logs for problem in log.problems]
    total = sum(log.requests for log in logs)
    assert not problems, f"{len(problems)} of {total} answers were wrong, e.g.:\n" + "\n".join(problems[:15])
    assert total >= 24 * 9 * 4, f"only {total} requests were made"

    # Bypassing PgBouncer: each store's schema holds exactly its seed plus what its clients kept, all
    # carrying its own marker, and no other schema holds a product.
    expected: dict[str, set[str]] = {store.schema: {f"{store.slug}-seed-{n}" for n in range(3)} for store in stores}
    for log in logs:
        for schema, skus in log.kept.items():
            expected[schema] |= skus
    by_schema = products_by_schema()
    for store in stores:
        rows = by_schema.pop(store.schema)
        assert {sku for sku, _, _ in rows} == expected[store.schema], f"schema {store.schema} holds the wrong rows"
        assert {description for _, _, description in rows} == {store.marker}
        assert all(title.startswith(store.marker) for _, title, _ in rows)
    assert all(not rows for rows in by_schema.values()), f"products outside their store: {by_schema}"
    print(f"\n{total} requests across {len(stores)} stores through PgBouncer in {elapsed:.1f}s, all isolated")


def product_paths(stores: list[Store]) -> dict[str, str]:
    """Each store's first product, by API path (read directly, not through the pooler)."""
    paths = {}
    for store in stores:
        connection.set_tenant(store.tenant)
        paths[store.slug] = f"/api/v1/products/{Product.objects.order_by('pk').values_list('pk', flat=True)[0]}"
    connection.set_schema_to_public()
    return paths


def probe(server: Server, store: Store, path: str) -> list[str]:
    """Read one of `store`'s products; what was wrong with the answer, if anything.

    Not the product list: a warm list is served from the cache without a query. The token check is
    cached too, so a warm request's first statements are the backend's SET and this product's SELECT.
    """
    status, product = request(server.port, "GET", store.host, path, store.token)
    if status != 200 or value(product, "description") != store.marker:
        # Read in some other store's schema: another store's product, or none (404).
        return [f"{store.slug}: {status} {product}"]
    return []


def clients_waiting(bouncer: Bouncer) -> int:
    """Clients queued in PgBouncer for a server connection of the single-connection database."""
    admin = psycopg2.connect(host="127.0.0.1", port=bouncer.port, dbname="pgbouncer", user="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SHOW POOLS")
            columns = [column.name for column in cursor.description]
            pools = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        admin.close()
    return sum(int(pool["cl_waiting"]) for pool in pools if pool["database"] == bouncer.single_database)


def released_together(server: Server, bouncer: Bouncer, stores: list[Store], paths: dict[str, str]) -> list[str]:
    """One request per store in `stores`, all at once, each made to wait in PgBouncer until every one is
    waiting for the only server connection (held here in an open transaction), then let go together.

    PgBouncer serves waiting clients in order, one transaction each. Each warm request's first statement
    is the stock backend's `SET search_path` (an autocommit transaction of its own), its second reads the
    product; every first statement runs before any second one, so the first request of a store other
    than the last SET's store to read does so in the last SET's schema.
    """
    holder = psycopg2.connect(host="127.0.0.1", port=bouncer.port, dbname=bouncer.single_database, user="postgres")
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT 1")  # in a transaction: the one server connection is this client's
        with ThreadPoolExecutor(max_workers=len(stores)) as pool:
            futures = [pool.submit(probe, server, store, paths[store.slug]) for store in stores]
            waiting = wait_for(
                lambda: clients_waiting(bouncer) == len(stores) or any(future.done() for future in futures),
                what="every request to wait for the server connection",
            )
            all_queued = not any(future.done() for future in futures)
            holder.rollback()
            answers = [future.result() for future in futures]
        assert waiting and all_queued, f"a request was answered before the others queued: {answers}"
        return [problem for problems in answers for problem in problems]
    finally:
        holder.close()


def test_stock_backend_leaks_under_concurrent_requests(
    pgbouncer: Bouncer, committed_tenancy: None, tmp_path: Path
) -> None:
    """Negative control: concurrent requests through the same pooler catch django-tenants' stock backend,
    and the same requests, released the same way, are all answered right by ours."""
    stores = sign_up_stores(4)
    seed_products(stores, per_store=3)
    paths = product_paths(stores)
    (tmp_path / "pgb_stock_settings.py").write_text(STOCK_SETTINGS_SOURCE)
    clients = stores * 2
    # One process, a thread per client, persistent connections, through the single-connection database.
    with app_server(
        "stock", pgbouncer.url(pgbouncer.single_database), tmp_path, 60, "pgb_stock_settings", 1, len(clients)
    ) as stock:
        # Alone, the stock backend answers right (and each store's route and token check are cached).
        assert [problem for store in stores for problem in probe(stock, store, paths[store.slug])] == []
        # Every thread opens its connection (whose set-up statements come first): answers not checked.
        released_together(stock, pgbouncer, clients, paths)
        problems = released_together(stock, pgbouncer, clients, paths)
    with app_server("ours", pgbouncer.url(pgbouncer.single_database), tmp_path, 60, threads=len(clients)) as ours:
        released_together(ours, pgbouncer, clients, paths)
        ours_problems = released_together(ours, pgbouncer, clients, paths)

    assert problems, "negative control: the stock backend answered every request right"
    assert ours_problems == []
    print(f"\nstock backend: {len(problems)} wrong answers of {len(clients)} requests, e.g. {problems[0]}")
