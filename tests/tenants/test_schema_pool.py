"""The schema pool: refilled by a real Celery worker after signups, made of fully migrated schemas, and
never overfilled by refills that run at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections

from onboarding.services import sign_up_merchant
from tenants import schema_pool, tasks
from tenants.models import PooledSchema
from tests.conftest import signup_request


def _constraint_names(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
             WHERE n.nspname = %s
            """,
            [schema],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.usefixtures("committed_tenancy")
def test_a_worker_tops_the_pool_up_after_signups(settings, celery_worker):
    settings.TENANT_POOL_SIZE = PooledSchema.objects.count()
    target = settings.TENANT_POOL_SIZE

    with celery_worker(shutdown_timeout=30):
        for _ in range(2):
            sign_up_merchant(signup_request())  # each queues a refill after commit
        assert PooledSchema.objects.count() <= target - 1
        deadline = time.monotonic() + 60
        while PooledSchema.objects.count() < target and time.monotonic() < deadline:
            time.sleep(0.2)

    assert PooledSchema.objects.count() == target


@pytest.mark.django_db
def test_pooled_schemas_are_identical_to_migrated_ones():
    pooled = schema_pool.add_pooled_schema()

    # The template is made by Django's migrations; a pooled schema must not differ from it in any
    # constraint name, or later migrations could not be replayed on it.
    assert _constraint_names(pooled.schema_name) == _constraint_names(schema_pool.template_schema_name())
    assert _constraint_names(pooled.schema_name)


def _pool_schemas_in_catalog() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pool\\_%%'")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy")
def test_concurrent_refills_top_the_pool_up_exactly_once(settings):
    # Given a pool two schemas short
    settings.TENANT_POOL_SIZE = PooledSchema.objects.count() + 2
    pooled_before = set(PooledSchema.objects.values_list("schema_name", flat=True))
    schemas_before = _pool_schemas_in_catalog()
    refills = [tasks.refill_schema_pool, schema_pool.refill_schema_pool] * 2  # workers, and `make dev`
    barrier = threading.Barrier(len(refills))
    added: list[int] = []
    errors: list[BaseException] = []

    def refill(run: Callable[[], int]) -> None:
        try:
            barrier.wait(timeout=30)
            added.append(run())
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    # When four refills start together, each on its own database connection
    threads = [threading.Thread(target=refill, args=(run,)) for run in refills]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    # Then one of them made the two missing schemas, the others none, and nothing else was made
    assert not errors, errors
    assert sorted(added) == [0, 0, 0, 2]
    pooled = set(PooledSchema.objects.values_list("schema_name", flat=True))
    assert len(pooled) == settings.TENANT_POOL_SIZE and pooled_before < pooled
    assert _pool_schemas_in_catalog() - schemas_before == pooled - pooled_before
