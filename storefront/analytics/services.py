"""The product analytics rollup: the events recording.py keeps in Redis become ProductMinute rows, and the
minutes, the day's distinct viewers and the day's orders become ProductDay rows.

Every row is an upsert of values recomputed from their sources (Redis's cumulative counts, the minute rows,
the orders), never an increment, so a rollup that dies half-way, runs twice, or runs again over the same
minutes changes nothing. A minute is rolled up once it has closed (CLOSE_GRACE_SECONDS after its end, so
the web processes' last pushes are in), then unlisted; its keys stay until they expire, and a late push
lists it again to be rolled up whole.

Orders per day are the store's orders created that UTC day in a paid-or-later status (paid,
ready_for_pickup, shipped, completed): awaiting payment and placed-but-unpaid are not sales yet, cancelled
and refunded ones are not sales any more. ``orders`` counts the orders with the product, ``units`` the
units of it they hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from storefront.analytics import recording
from storefront.analytics.models import ProductDay, ProductMinute
from storefront.catalog.models import Product
from storefront.orders.models import Order, OrderLine
from tenants.db_backend import connection

CLOSE_GRACE_SECONDS = 10
SOLD_STATUSES = (Order.Status.PAID, Order.Status.READY_FOR_PICKUP, Order.Status.SHIPPED, Order.Status.COMPLETED)

# KEYS: the store's minutes, the stores. ARGV: the store's schema, then the minutes rolled up.
_FORGET = """
for i = 2, #ARGV do
  redis.call('SREM', KEYS[1], ARGV[i])
end
if redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
"""


def roll_up_product_events(now: datetime | None = None) -> int:
    """In the store's schema: roll up its closed minutes, then the days they fall on (and today, for its
    orders). Answers the number of minutes rolled up. Safe to repeat at any point."""
    if not recording.is_enabled():
        return 0
    recording.push_local_events()
    now = now or timezone.now()
    schema = connection.schema_name
    redis = recording.client()
    pending = sorted(int(minute) for minute in redis.smembers(recording.minutes_key(schema)))
    closed = [minute for minute in pending if minute + 60 + CLOSE_GRACE_SECONDS <= now.timestamp()]
    rows = [row for minute in closed for row in _minute_rows(schema, minute)]
    known = set(Product.objects.filter(pk__in={row.product_id for row in rows}).values_list("pk", flat=True))
    days = {now.astimezone(UTC).date()} | {row.minute.date() for row in rows}
    with transaction.atomic():
        ProductMinute.objects.bulk_create(
            [row for row in rows if row.product_id in known],
            update_conflicts=True,
            unique_fields=["product", "minute"],
            update_fields=["views", "unique_viewers", "add_to_carts"],
            batch_size=1000,
        )
        for day in sorted(days):
            _roll_up_day(schema, day)
    if closed:
        keys = (recording.minutes_key(schema), recording.stores_key())
        redis.eval(_FORGET, 2, *keys, schema, *closed)  # type: ignore[no-untyped-call]
    return len(closed)


def _minute_rows(schema: str, minute: int) -> list[ProductMinute]:
    redis = recording.client()
    counts: dict[int, dict[str, int]] = {}
    for field, value in redis.hgetall(recording.counts_key(schema, minute)).items():
        kind, product = _text(field).split(":", 1)
        counts.setdefault(int(product), {})[kind] = int(value)
    products = sorted(counts)
    pipeline = redis.pipeline(transaction=False)
    for product_id in products:
        pipeline.pfcount(recording.minute_viewers_key(schema, minute, product_id))
    viewers = pipeline.execute()
    start = datetime.fromtimestamp(minute, tz=UTC)
    return [
        ProductMinute(
            product_id=product_id,
            minute=start,
            views=counts[product_id].get(recording.VIEWS, 0),
            unique_viewers=unique,
            add_to_carts=counts[product_id].get(recording.CARTS, 0),
        )
        for product_id, unique in zip(products, viewers, strict=True)
    ]


def _roll_up_day(schema: str, day: date) -> None:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    seen = {
        row["product_id"]: row
        for row in ProductMinute.objects.filter(minute__gte=start, minute__lt=end)
        .values("product_id")
        .annotate(views=Sum("views"), add_to_carts=Sum("add_to_carts"))
        .order_by()
    }
    sold = {
        row["product_id"]: row
        for row in OrderLine.objects.filter(
            order__status__in=SOLD_STATUSES,
            order__created_at__gte=start,
            order__created_at__lt=end,
            product__isnull=False,
        )
        .values("product_id")
        .annotate(orders=Count("order", distinct=True), units=Sum("quantity"))
        .order_by()
    }
    products = sorted(seen.keys() | sold.keys())
    viewers = _day_viewers(schema, day, products)
    before = dict(ProductDay.objects.filter(day=day).values_list("product_id", "unique_viewers"))
    rows = []
    for product_id in products:
        views = _int(seen.get(product_id), "views")
        unique = viewers[product_id]
        if views and not unique:  # the day's HyperLogLog expired: keep what was counted while it lived
            unique = before.get(product_id, 0)
        rows.append(
            ProductDay(
                product_id=product_id,
                day=day,
                views=views,
                unique_viewers=unique,
                add_to_carts=_int(seen.get(product_id), "add_to_carts"),
                orders=_int(sold.get(product_id), "orders"),
                units=_int(sold.get(product_id), "units"),
            )
        )
    ProductDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["product", "day"],
        update_fields=["views", "unique_viewers", "add_to_carts", "orders", "units"],
        batch_size=1000,
    )


def _day_viewers(schema: str, day: date, products: Iterable[int]) -> dict[int, int]:
    products = list(products)
    pipeline = recording.client().pipeline(transaction=False)
    for product_id in products:
        pipeline.pfcount(recording.day_viewers_key(schema, day.isoformat(), product_id))
    return dict(zip(products, (int(count) for count in pipeline.execute()), strict=True))


def _int(row: Mapping[str, Any] | None, field: str) -> int:
    return int(row[field] or 0) if row else 0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def stores_with_events() -> list[str]:
    """The schemas with minutes waiting for a rollup."""
    if not recording.is_enabled():
        return []
    return sorted(_text(schema) for schema in recording.client().smembers(recording.stores_key()))
