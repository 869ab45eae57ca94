"""Shared fixtures: a migrated template schema and a pool of ready schemas are made once per test
database, so a test gets a live store in milliseconds by signing up, never by migrating."""

from __future__ import annotations

import importlib
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from celery.contrib.testing.worker import TestWorkController, start_worker
from celery.worker import state as worker_state
from django.apps import apps as django_apps
from django.core.cache import caches
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.test import Client
from django_tenants.utils import quote_schema_name
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from billing import api_metering
from config.celery import app as celery_app
from onboarding.services import SignupRequest, SignupResult, sign_up_merchant
from tenants import routing, schema_pool
from tenants.accounts.models import User
from tenants.models import PlatformRole, PooledSchema
from tenants.permissions import grant_platform_role

ROOT_HOST = "localhost"
TEST_POOL_SIZE = 8
STRONG_PASSWORD = "Quiet-harbour-lanterns-42"
STAFF_EMAIL = "staff@localbazaar.test"

_counter = itertools.count(1)

# Property tests check what they find, not how fast this machine finds it: a draw or an example slowed by the
# other pytest worker's load (two workers on two cores) must not fail the suite by chance.
hypothesis_settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("suite")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        schema_pool.ensure_template_schema()
        schema_pool.refill_schema_pool(TEST_POOL_SIZE)
    yield
    # Threads of live servers and in-process workers may still hold a connection; end them so
    # the test database can be dropped.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # API requests earlier tests counted in this process go to Redis now, and are cleared with it.
    api_metering.push_local_counts()
    for alias in ("default", "routing"):
        caches[alias].clear()
    routing.forget_local_routes()
    yield
    connection.set_schema_to_public()


def _schema_digests(cursor: Any, names: list[str]) -> dict[str, str]:
    """A digest per schema of what a test could have changed in it: its tables, columns, indexes and
    constraints, where each sequence stands, and the number of rows in each table. Schemas migrated the
    same way and left untouched have equal digests. names[0] is the reference (the template)."""
    cursor.execute(
        """
        SELECT n.nspname, md5(
                   coalesce((SELECT string_agg(c.relname || ':' || c.relkind::text || '(' || coalesce((
                                 SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                                                   || CASE WHEN a.attnotnull THEN '!' ELSE '' END,
                                                   ',' ORDER BY a.attnum)
                                   FROM pg_attribute a
                                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')',
                             ';' ORDER BY c.relname)
                               FROM pg_class c WHERE c.relnamespace = n.oid), '')
                   || '|' || coalesce((SELECT string_agg(co.conname || ':' || co.contype::text, ';' ORDER BY co.conname)
                                         FROM pg_constraint co WHERE co.connamespace = n.oid), '')
                   || '|' || coalesce((SELECT string_agg(s.sequencename || '=' || coalesce(s.last_value, 0), ';'
                                                         ORDER BY s.sequencename)
                                         FROM pg_sequences s WHERE s.schemaname = n.nspname), ''))
          FROM pg_namespace n
         WHERE n.nspname = ANY(%s)
        """,
        [names],
    )
    digests: dict[str, str] = dict(cursor.fetchall())
    # Same structure: count each table's rows, every schema in one statement.
    alike = [name for name in names if name in digests and digests[name] == digests.get(names[0])]
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
        [names[0]],
    )
    tables = [connection.ops.quote_name(table) for (table,) in cursor.fetchall()]
    if tables and alike:
        per_schema = []
        for name in alike:
            counts = ", ".join(f"(SELECT count(*) FROM {quote_schema_name(name)}.{table})" for table in tables)
            per_schema.append(f"SELECT %s, concat_ws(',', {counts})")
        cursor.execute(" UNION ALL ".join(per_schema), alike)
        for name, counts in cursor.fetchall():
            digests[name] += "|" + counts
    return digests


def _tables_empty_in(cursor: Any, schema: str) -> list[str]:
    """The template's tables that hold no row (those its migrations seed, content types and permissions,
    are left alone)."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
        [schema],
    )
    tables = [table for (table,) in cursor.fetchall()]
    if not tables:
        return []
    counts = " UNION ALL ".join(
        f"SELECT %s, count(*) FROM {quote_schema_name(schema)}.{connection.ops.quote_name(table)}" for table in tables
    )
    cursor.execute(counts, tables)
    return [table for table, rows in cursor.fetchall() if rows == 0]


def _emptied_into_pool(cursor: Any, store_schema: str, tables: list[str]) -> str | None:
    """A store schema a test made, emptied of what the test wrote (the template's empty tables truncated,
    their sequences restarted) and renamed as a pool schema; None when that could not be done at once (a
    lock still held by something the test left running): the schema is then dropped as before."""
    name = f"pool_{uuid.uuid4().hex[:16]}"
    quoted = ", ".join(f"{quote_schema_name(store_schema)}.{connection.ops.quote_name(table)}" for table in tables)
    try:
        with transaction.atomic():
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            if quoted:
                cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            cursor.execute(f"ALTER SCHEMA {quote_schema_name(store_schema)} RENAME TO {quote_schema_name(name)}")
    except DatabaseError:
        return None
    return name


def reset_tenancy() -> None:
    """Put the schema pool back as it was before a test that committed, then top it up.

    Runs after such a test's database flush has emptied the public tables (pool rows included). The store
    schemas the test made are emptied and renamed as pool schemas, and each pool schema whose tables,
    columns, indexes, constraints, sequences and row counts match the template's (its digest) is registered
    again; anything else is dropped. Migrating a fresh schema for every store a test signed up took most of
    each committed test's time; emptying one takes a few milliseconds.
    """
    connection.set_schema_to_public()
    template = schema_pool.template_schema_name()
    registered = set(PooledSchema.objects.values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%%' OR nspname LIKE 'pool\\_%%' ORDER BY nspname"
        )
        names = [name for (name,) in cursor.fetchall() if name not in registered]
        candidates = [name for name in names if name.startswith("pool_")]
        if schema_pool.template_exists():
            empty_tables = _tables_empty_in(cursor, template)
            for name in [name for name in names if name.startswith("t_")]:
                if (renamed := _emptied_into_pool(cursor, name, empty_tables)) is not None:
                    names[names.index(name)] = renamed
                    candidates.append(renamed)
        digests = (
            _schema_digests(cursor, [template, *candidates]) if candidates and schema_pool.template_exists() else {}
        )
        room = max(TEST_POOL_SIZE - len(registered), 0)
        reusable = [name for name in candidates if name in digests and digests[name] == digests.get(template)][:room]
        for name in names:
            if name not in reusable:
                cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(name)} CASCADE")
    PooledSchema.objects.bulk_create([PooledSchema(schema_name=name) for name in reusable])
    schema_pool.refill_schema_pool(TEST_POOL_SIZE)
    # The flush emptied the gazetteer its migration seeded: put it back for the tests that follow.
    importlib.import_module("storefront.marketplace.migrations.0002_seed_places").seed_places(django_apps, None)


@pytest.fixture
def committed_tenancy(transactional_db: Any) -> None:
    """For tests that must commit (concurrency, other processes, a live server). The schemas they
    make are dropped and the pool refilled after the test's flush (see pytest_runtest_teardown)."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # After the last test the test database itself is gone: nothing to reset.
    if nextitem is not None and "committed_tenancy" in getattr(item, "fixturenames", ()):
        blocker = item.config.stash[blocking_manager_key]
        with blocker.unblock():
            reset_tenancy()


def purge_broker() -> None:
    """Empty the test broker before a test starts a Celery worker (in a thread or a process).

    Tasks queued by earlier tests with no worker running (every committed signup queues a pool refill),
    put back by a worker stopped mid-task, or taken by a killed one, would otherwise run in this test's
    worker, against schemas those tests have since dropped.
    """
    celery_app.control.purge()
    with celery_app.connection_for_write() as broker:
        channel = broker.default_channel
        # Redis keeps messages a worker took but never acknowledged (acks_late) in these keys and puts
        # them back in the queue later; a SIGKILLed worker's task would come back in some later test.
        unacked = [getattr(channel, name, None) for name in ("unacked_key", "unacked_index_key")]
        if all(unacked):
            channel.client.delete(*unacked)


WORKER_START_SECONDS = 60


class BoundedTestWorker(TestWorkController):
    """Celery's test worker, whose start is waited for with a deadline: a worker thread that dies before its
    consumer is ready fails the test that started it instead of hanging the whole suite."""

    def ensure_started(self) -> None:
        if not self._on_started.wait(WORKER_START_SECONDS):
            raise AssertionError(f"the test's Celery worker was not ready within {WORKER_START_SECONDS} s")


@pytest.fixture
def celery_worker() -> Callable[..., AbstractContextManager[Any]]:
    """`with celery_worker(): ...` runs a real Celery worker on the real broker in a thread of this process.

    The broker is emptied when the fixture is set up, before the test body, so a test may queue its own
    tasks before it starts the worker and they are still there for it.
    """
    purge_broker()

    def start(shutdown_timeout: float = 10) -> AbstractContextManager[Any]:
        # A worker stopped by an earlier test (a warm shutdown, a task that raised SystemExit) leaves these
        # set in celery.worker.state, and a new worker would stop before it is ready.
        worker_state.should_stop = None
        worker_state.should_terminate = None
        return start_worker(
            celery_app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=shutdown_timeout,
            WorkController=BoundedTestWorker,
        )

    return start


def wait_for(condition: Callable[[], Any], seconds: float = 60, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy (returned), failing after a generous deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def sessions_waiting_for_my_locks() -> list[int]:
    """Backend pids of database sessions waiting for a lock this test's session holds: how a test knows
    another process has reached the statement it is holding back (pg_locks is read live, never a snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return [pid for (pid,) in cursor.fetchall()]


def signup_request(**overrides: Any) -> SignupRequest:
    n = next(_counter)
    fields: dict[str, Any] = {
        "email": f"owner{n}@example.com",
        "password": STRONG_PASSWORD,
        "store_name": f"Corner Shop {n}",
        "subdomain": f"corner{n}",
        "town": "Hebden Bridge",
        "postcode": "HX7 8AD",
        "tenancy": "shared",
    }
    fields.update(overrides)
    return SignupRequest(**fields)


@pytest.fixture
def make_store(db: Any) -> Callable[..., SignupResult]:
    """Sign a merchant up through the real service and return the result (tenant, owner, token)."""

    def make(**overrides: Any) -> SignupResult:
        return sign_up_merchant(signup_request(**overrides))

    return make


@pytest.fixture
def root_api() -> APIClient:
    return APIClient(HTTP_HOST=ROOT_HOST)


def store_host(slug: str) -> str:
    return f"{slug}.{ROOT_HOST}"


def store_api(slug: str, token: str | None = None) -> APIClient:
    client = APIClient(HTTP_HOST=store_host(slug))
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def make_platform_staff(email: str = STAFF_EMAIL, role: str = PlatformRole.Role.OPERATOR) -> User:
    """A platform account (public schema) with a platform staff role."""
    user = User.objects.create_superuser(email, STRONG_PASSWORD)
    grant_platform_role(user, role)
    return user


def token_for(client: APIClient, email: str, password: str = STRONG_PASSWORD) -> str:
    """Log in on the client's host for a bearer token; fails the test loudly if refused."""
    response = client.post("/api/v1/auth/token", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.fixture
def staff_user(db: Any) -> User:
    """A platform operator: every staff action, the console and the platform admin."""
    return make_platform_staff()


@pytest.fixture
def staff_api(root_api: APIClient, staff_user: User) -> APIClient:
    """The staff API on the root host with the operator's bearer token."""
    root_api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(root_api, STAFF_EMAIL)}")
    return root_api


@pytest.fixture
def staff_browser(staff_user: User) -> Client:
    """The operator logged in on the root host (console and platform admin)."""
    browser = Client(HTTP_HOST=ROOT_HOST)
    # django-axes checks every password login against the request it came in (here, none: a blank one).
    assert browser.login(request=HttpRequest(), email=STAFF_EMAIL, password=STRONG_PASSWORD)
    return browser
