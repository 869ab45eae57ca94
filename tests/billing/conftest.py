"""Fixtures for the billing suites: platform staff in the control-plane admin, media in a temporary
folder (invoice PDFs), a store's period put in the past so it can be closed, and two stores side by side."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import storages
from django.test import Client
from django.utils import timezone

from billing.models import Subscription


@pytest.fixture
def platform_admin_browser(staff_browser: Client) -> Client:
    """A platform operator logged in to the control-plane admin on the root host."""
    return staff_browser


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Iterator[Any]:
    """Invoice PDFs go to a folder of the test's own (still namespaced by schema below it)."""
    storage = storages["default"]
    # django-tenants' storage caches MEDIA_ROOT on first use and misses setting changes.
    storage.__dict__.pop("relative_media_root", None)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield tmp_path / "media"
    storage.__dict__.pop("relative_media_root", None)


def period_ended(tenant: Any, *, days_ago: float = 1, length_days: int = 30) -> tuple[Subscription, datetime]:
    """Move the store's subscription so its current period ended ``days_ago`` (anchored at its
    start); returns it and a moment after the end to close it at."""
    end = timezone.now() - timedelta(days=days_ago)
    start = end - timedelta(days=length_days)
    Subscription.objects.filter(tenant=tenant).update(
        billing_anchor=start, current_period_start=start, current_period_end=end
    )
    return Subscription.objects.get(tenant=tenant), end + timedelta(minutes=5)


@pytest.fixture
def bakery(make_store: Any) -> Any:
    """A store signed up through the real service (tenant, owner and token), for usage measured by the platform."""
    return make_store(subdomain="bakery", email="baker@example.com")


@pytest.fixture
def pottery(make_store: Any) -> Any:
    """Another store, next to the bakery: what is measured for one is never the other's."""
    return make_store(subdomain="pottery", email="potter@example.com")
