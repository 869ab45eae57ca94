"""Storefront events for product analytics, recorded without slowing the page: a product page's view and an
add to cart are counted in the web process's memory (no database write, no network round trip on the
request's path) and pushed to Redis by a daemon thread every USAGE_COUNT_PUSH_SECONDS and at exit, by the
same buffer as billing/api_metering.py's API requests (tenants/buffered_counts.py). The rollup
(storefront/analytics/services.py) reads Redis into ProductMinute and ProductDay rows. ANALYTICS_RECORDING=0
switches recording off (the rollup still runs over what was recorded, and the day's orders).

Unique viewers: a visitor is the session key if the browser has a session, else the client's address (as
our proxies saw it, tenants.client_address) and its User-Agent; either is hashed with a salt derived from
SECRET_KEY and the UTC day, so neither raw IPs nor session keys (credentials) ever reach Redis, and one
day's hashes cannot be linked to the next day's. Distinct viewers are counted with Redis HyperLogLogs
(PFADD/PFCOUNT) per (store, product, minute) and per (store, product, day) rather than exact sets: a
HyperLogLog is at most 12 KB whatever a popular product's traffic (a set of hashes grows with it, for every
product and minute kept), small counts stay in its sparse form (a few hundred bytes, exact in practice),
and its 0.81% standard error is well inside what a merchant reads off a chart. A visitor's first page
without a session and later ones with it (after an add to cart) may count as two on that minute.

Redis layout (every key carries the stack's tag, so a dedicated stack on the same Redis keeps its own):
``analytics:{tag}:stores`` the schemas with minutes not rolled up yet; ``...:<schema>:minutes`` those
minutes (epoch seconds); ``...:<schema>:m:<minute>`` a hash of ``views:<product>``/``carts:<product>``
counts; ``...:<schema>:m:<minute>:p:<product>`` and ``...:<schema>:d:<day>:p:<product>`` the viewers'
HyperLogLogs. Counts are cumulative and kept for KEEP_SECONDS (not deleted by the rollup), so a rollup can
be repeated, and a push that arrives after its minute was rolled up re-lists the minute for the next one.
A push that cannot reach Redis keeps its counts for the next; what a SIGKILLed process had not pushed (its
last second) is lost. Without REDIS_URL nothing is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import Counter
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest
from redis.client import Pipeline

from tenants import buffered_counts
from tenants.buffered_counts import client as client
from tenants.buffered_counts import is_enabled as is_enabled
from tenants.client_address import client_ip
from tenants.db_backend import connection

logger = logging.getLogger(__name__)

KEEP_SECONDS = 3 * 24 * 3600

VIEWS, CARTS = "views", "carts"


def is_recording() -> bool:
    """Whether pages and carts record their events (Redis configured, ANALYTICS_RECORDING not switched off)."""
    return bool(settings.ANALYTICS_RECORDING) and is_enabled()


def _tag() -> str:
    return buffered_counts.stack_tag()


def stores_key() -> str:
    return f"analytics:{_tag()}:stores"


def minutes_key(schema: str) -> str:
    return f"analytics:{_tag()}:{schema}:minutes"


def counts_key(schema: str, minute: int) -> str:
    return f"analytics:{_tag()}:{schema}:m:{minute}"


def minute_viewers_key(schema: str, minute: int, product_id: int) -> str:
    return f"analytics:{_tag()}:{schema}:m:{minute}:p:{product_id}"


def day_viewers_key(schema: str, day: str, product_id: int) -> str:
    return f"analytics:{_tag()}:{schema}:d:{day}:p:{product_id}"


def day_of(minute: int) -> str:
    return datetime.fromtimestamp(minute, tz=UTC).date().isoformat()


CountKey = tuple[str, int, str, int]  # (schema, minute, kind, product)
ViewersKey = tuple[str, int, int]  # (schema, minute, product)


def _write_events(pipeline: Pipeline, counts: Counter[CountKey], viewers: dict[ViewersKey, set[str]]) -> None:
    listed: set[tuple[str, int]] = set()
    for (schema, minute, kind, product_id), count in counts.items():
        pipeline.hincrby(counts_key(schema, minute), f"{kind}:{product_id}", count)
        pipeline.expire(counts_key(schema, minute), KEEP_SECONDS)
        listed.add((schema, minute))
    for (schema, minute, product_id), visitors in viewers.items():
        for key in (
            minute_viewers_key(schema, minute, product_id),
            day_viewers_key(schema, day_of(minute), product_id),
        ):
            pipeline.pfadd(key, *visitors)
            pipeline.expire(key, KEEP_SECONDS)
    # Listed last: a rollup that sees a minute sees its counts.
    for schema, minute in listed:
        pipeline.sadd(minutes_key(schema), minute)
        pipeline.sadd(stores_key(), schema)


class _LocalEvents(buffered_counts.BufferedCounts[CountKey, ViewersKey]):
    """This process's events not yet pushed to Redis (counts, and each product's visitors a minute), and
    the thread that pushes them."""

    @property
    def viewers(self) -> dict[ViewersKey, set[str]]:
        return self.sets


_local = _LocalEvents("product-analytics", _write_events, "Product analytics kept for later: Redis unavailable", logger)


def visitor_of(request: HttpRequest, today: str) -> str:
    """The request's visitor for unique counts: its session, else its address and User-Agent, hashed
    with the day's salt (never stored raw)."""
    session = getattr(request, "session", None)
    session_key = session.session_key if session is not None else None
    if session_key:
        raw = f"session:{session_key}"
    else:
        raw = f"client:{client_ip(request)}\n{request.META.get('HTTP_USER_AGENT', '')}"
    salt = hmac.new(settings.SECRET_KEY.encode(), f"analytics-visitor:{today}".encode(), hashlib.sha256).digest()
    return hmac.new(salt, raw.encode(), hashlib.sha256).hexdigest()[:32]


def record_product_view(request: HttpRequest, product_id: int) -> None:
    """Count a view of the product's page by the request's visitor (in memory; never raises or waits)."""
    _record(request, VIEWS, product_id)


def record_add_to_cart(request: HttpRequest, product_id: int) -> None:
    """Count an add of the product to a cart (in memory; never raises or waits)."""
    _record(request, CARTS, product_id)


def _record(request: HttpRequest, kind: str, product_id: int) -> None:
    if not is_recording():
        return
    now = int(time.time())
    minute = now - now % 60
    schema = connection.schema_name
    visitor = visitor_of(request, day_of(minute)) if kind == VIEWS else ""
    _local.add((schema, minute, kind, product_id), (schema, minute, product_id), visitor)


def push_local_events() -> int:
    """Add this process's events to Redis (one pipelined round trip); answers how many counts were pushed.
    On failure the events stay here for the next push."""
    return _local.push()
