"""The schema pool: refilled by a real Celery worker after signups, made of fully migrated schemas."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from config.celery import app
from onboarding.services import sign_up_merchant
from tenants import schema_pool
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
def test_a_worker_tops_the_pool_up_after_signups(settings):
    settings.TENANT_POOL_SIZE = PooledSchema.objects.count()
    target = settings.TENANT_POOL_SIZE

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
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
