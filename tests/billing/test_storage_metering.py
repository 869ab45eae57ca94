"""`storage_gb` measured by the platform: each store's schema (its tables, indexes and TOAST) and its media,
once a day, as its own peak; never another store's data, and a replayed day records nothing twice."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import storage_metering
from billing.models import UsageEvent
from billing.selectors import usage_in_period
from billing.services import record_usage
from billing.tasks import measure_storage
from billing.usage_batches import UsageEventIn
from storefront.catalog.models import Product
from tests.conftest import store_api, wait_for
from tests.storefront.images.conftest import aws_credentials, aws_server, s3_media  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def add_products(store, count: int, description_chars: int) -> None:
    with tenant_context(store.tenant):
        Product.objects.bulk_create(
            Product(
                title=f"Loaf {n}",
                description="".join(secrets.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(description_chars)),
                price=350,
                sku=f"LOAF-{n}",
            )
            for n in range(count)
        )


def media_file(media_root, store, name: str, size: int) -> None:
    """A file of ``size`` bytes in the store's media folder (sparse: it takes no disk)."""
    path = media_root / store.tenant.schema_name / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file:
        file.truncate(size)


def measured(store) -> storage_metering.StoreStorage:
    (found,) = storage_metering.measure([(store.tenant.pk, store.tenant.schema_name)])
    return found


def storage_events() -> dict[int, list[tuple[str, int]]]:
    events: dict[int, list[tuple[str, int]]] = {}
    for tenant_id, key, quantity in (
        UsageEvent.objects.filter(metric="storage_gb")
        .order_by("pk")
        .values_list("tenant_id", "idempotency_key", "quantity")
    ):
        events.setdefault(tenant_id, []).append((key, quantity))
    return events


def test_a_stores_storage_is_its_schemas_tables_and_its_media(bakery, pottery, media_root):
    # Given two stores as they were signed up
    bakery_before, pottery_before = measured(bakery), measured(pottery)
    assert bakery_before.media_bytes == 0 and bakery_before.database_bytes > 0

    # When the bakery adds 2,000 products (about 4 MB of descriptions) and two media files
    add_products(bakery, 2_000, 2_000)
    media_file(media_root, bakery, "products/1/loaf.jpg", 123_456)
    media_file(media_root, bakery, "imports/incoming/products.csv", 789)

    # Then its database share grew by at least what it stored, its media is exactly its files, and the
    # pottery's measurement did not move
    bakery_after = measured(bakery)
    assert bakery_after.database_bytes - bakery_before.database_bytes >= 2_000 * 2_000
    assert bakery_after.media_bytes == 123_456 + 789
    assert measured(pottery) == pottery_before


@pytest.mark.usefixtures("committed_tenancy")
def test_the_daily_measurement_is_recorded_by_the_beat_task(bakery, pottery, media_root, celery_worker):
    # Given the bakery holding 3.5 GB of media (a sparse file) and the pottery next to nothing
    media_file(media_root, bakery, "products/1/video.mp4", 3_500_000_000)

    # When the beat's storage task runs on a real worker
    measure_storage.delay()
    with celery_worker():
        wait_for(lambda: len(storage_events()) == 2, what="the measurement")

    # Then each store has today's measurement in started GB, and only the stores were measured
    today = f"storage-{timezone.now().date().isoformat()}"
    assert storage_events() == {bakery.tenant.pk: [(today, 4)], pottery.tenant.pk: [(today, 1)]}
    usage = store_api("bakery", bakery.token).get("/api/v1/billing/usage").json()
    assert {row["metric"]: row["quantity"] for row in usage["metrics"]}["storage_gb"] == 4


def test_a_store_is_measured_once_a_day_and_billed_its_peak(bakery, media_root):
    # Given yesterday's measurement of 2.5 GB
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    media_file(media_root, bakery, "big.bin", 2_500_000_000)
    assert storage_metering.record_daily_storage(yesterday) == 1

    # When the store grows and the task runs again that day (the hourly check, a redelivery), then today
    media_file(media_root, bakery, "big.bin", 5_500_000_000)
    assert storage_metering.record_daily_storage(yesterday + timedelta(minutes=30)) == 0
    assert storage_metering.record_daily_storage(now) == 1
    assert storage_metering.record_daily_storage(now) == 0

    # Then each day keeps its first measurement, and a period spanning both is billed the peak
    assert storage_events() == {
        bakery.tenant.pk: [(f"storage-{yesterday.date().isoformat()}", 3), (f"storage-{now.date().isoformat()}", 6)]
    }
    period = usage_in_period(bakery.tenant.pk, yesterday - timedelta(hours=1), now + timedelta(hours=1))
    assert period["storage_gb"] == 6


def test_a_run_racing_another_keeps_the_first_measurement_and_records_the_rest(bakery, pottery, media_root):
    # Given another run that recorded the bakery's measurement of the day first, with another size
    now = timezone.now()
    key = f"storage-{now.date().isoformat()}"
    record_usage(bakery.tenant.pk, "storage_gb", 9, idempotency_key=key, occurred_at=now)
    events = [
        UsageEventIn(bakery.tenant.pk, "storage_gb", 1, key, now),
        UsageEventIn(pottery.tenant.pk, "storage_gb", 1, key, now),
    ]

    # When this run records its own measurements of the day
    assert storage_metering.record_measurements(events) == 1

    # Then the first stands and the pottery's is recorded
    assert storage_events() == {bakery.tenant.pk: [(key, 9)], pottery.tenant.pk: [(key, 1)]}


def test_s3_media_is_measured_under_the_stores_prefix_only(bakery, pottery, s3_media, settings):  # noqa: F811
    settings.AWS_LOCATION = "media"
    for key, size in [
        (f"media/{bakery.tenant.schema_name}/products/1/loaf.jpg", 1_000),
        (f"media/{bakery.tenant.schema_name}/imports/incoming/a.csv", 234),
        (f"media/{pottery.tenant.schema_name}/products/1/jug.jpg", 5_000),
        (f"{bakery.tenant.schema_name}/outside-the-location.jpg", 7_000),
    ]:
        s3_media.put_object(Key=key, Body=b"x" * size)

    assert measured(bakery).media_bytes == 1_234
    assert measured(pottery).media_bytes == 5_000
