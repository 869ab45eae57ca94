"""Shared fixtures: a migrated template schema and a pool of ready schemas are made once per test
database, so a test gets a live store in milliseconds by signing up, never by migrating."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.cache import caches
from django.db import connection
from django_tenants.utils import quote_schema_name
from pytest_django.plugin import blocking_manager_key
from rest_framework.test import APIClient

from tenants import routing, schema_pool
from tenants.models import PooledSchema
from tenants.services import SignupRequest, SignupResult, sign_up_merchant

ROOT_HOST = "localhost"
TEST_POOL_SIZE = 8
STRONG_PASSWORD = "Quiet-harbour-lanterns-42"

_counter = itertools.count(1)


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
    for alias in ("default", "routing"):
        caches[alias].clear()
    routing.forget_local_routes()
    yield
    connection.set_schema_to_public()


def reset_tenancy() -> None:
    """Drop store schemas and stray pool schemas left by tests that committed, then refill the pool.

    Runs after such a test's database flush has emptied the public tables (pool rows included).
    """
    connection.set_schema_to_public()
    pooled = set(PooledSchema.objects.values_list("schema_name", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%%' OR nspname LIKE 'pool\\_%%'")
        names = [name for (name,) in cursor.fetchall() if name not in pooled]
        for name in names:
            cursor.execute(f"DROP SCHEMA IF EXISTS {quote_schema_name(name)} CASCADE")
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
