"""`api_requests` usage measured by the platform: each API request a store's host serves is counted in
Redis (no database write per request), and a beat task moves the counts into usage events.

Counting. ``count_api_request`` adds one to the store's count in the process's memory (a lock and a dict:
no network round trip on the request's path, which cost a quarter of a cached product list's throughput
when it was a HINCRBY per request; tenants/buffered_counts.py). A daemon thread of each process pushes the
counts to the store's field of the stack's *counting* hash every USAGE_COUNT_PUSH_SECONDS (1 s; one
pipelined HINCRBY per store), and once more when the process exits (atexit: gunicorn's graceful stop and
recycling). Reading or flushing the counts pushes the reading process's own first. A push that cannot reach
Redis keeps its counts for the next (a warning is logged, at most once a minute per process): requests are
never refused for it. What a SIGKILLed web process had not pushed (at most its last second) is lost,
uncounted: never billed twice. Without REDIS_URL nothing is counted: `make dev` without Redis bills no API
use.

Flushing (``flush_api_request_counts``, beat task `billing.flush_api_request_counts` every
USAGE_FLUSH_SECONDS). A flush is three steps, each safe to repeat:

1. ``take_counts``, one Lua script (atomic in Redis): if a *pending* hash is left by an earlier flush,
   answer it with the window id stored beside it; otherwise RENAME the counting hash to pending, store a
   new window id beside it and answer both. Requests counted after the RENAME go to a new counting hash,
   so every increment lands in exactly one window.
2. ``record_counts`` records each store's count of the window through record_usage_batch with the
   idempotency key ``api-requests-<window id>``, in batches of MAX_BATCH_SIZE stores.
3. ``clear_counts`` deletes pending and its id, only if the id is still the window recorded (a script).

A worker that dies after 1 leaves pending in Redis: the next flush answers the same window and records
it (nothing lost). One that dies after 2 (or in the middle of 2) leaves pending too: the next flush
records it again under the same keys, and the events already recorded are duplicates (nothing counted
twice). Two flushes at once both take the same window; the database keeps each event once and the second
clear finds nothing to delete. A window id is the cut time in milliseconds and a random part, so keys
never repeat even if Redis lost its data; the events are stamped at the cut (a request counts in the
period of the flush that cut it, at most USAGE_FLUSH_SECONDS after it). Keys carry the stack's identity
(CACHE_KEY_PREFIX + STACK_ID, in a Redis Cluster hash tag): a dedicated stack on the same Redis counts
and flushes its own store in its own database.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.client import Pipeline

from billing import services
from billing.models import Metric
from billing.usage_batches import MAX_BATCH_SIZE, UsageEventIn
from tenants import buffered_counts
from tenants.buffered_counts import client as _client
from tenants.buffered_counts import is_enabled
from tenants.models import Tenant

logger = logging.getLogger(__name__)

KEY_PREFIX = "api-requests-"

# KEYS: counting, pending, pending window id. ARGV: the id of a new window. Answers [] (nothing to flush)
# or [window id, 1 if it was left by an earlier flush else 0, field, count, field, count, ...].
_TAKE = """
local window = redis.call('GET', KEYS[3])
if window then
  local rows = redis.call('HGETALL', KEYS[2])
  table.insert(rows, 1, 1)
  table.insert(rows, 1, window)
  return rows
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[1])
local rows = redis.call('HGETALL', KEYS[2])
table.insert(rows, 1, 0)
table.insert(rows, 1, ARGV[1])
return rows
"""
# KEYS: pending, pending window id. ARGV: the window recorded.
_CLEAR = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class CountWindow:
    """API requests counted per store (tenant id) up to the cut of window ``window_id``."""

    window_id: str
    counts: dict[int, int]
    resumed: bool  # left by an earlier flush that did not finish

    @property
    def cut_at(self) -> datetime:
        return datetime.fromtimestamp(int(self.window_id.split("-", 1)[0]) / 1000, tz=UTC)

    @property
    def idempotency_key(self) -> str:
        return f"{KEY_PREFIX}{self.window_id}"


def _keys() -> tuple[str, str, str]:
    tag = buffered_counts.stack_tag()
    return f"usage:{tag}:api_requests", f"usage:{tag}:api_requests:pending", f"usage:{tag}:api_requests:window"


def _write_counts(pipeline: Pipeline, counts: Counter[int], _sets: dict[None, set[str]]) -> None:
    counting = _keys()[0]
    for tenant_id, count in counts.items():
        pipeline.hincrby(counting, str(tenant_id), count)


_local: buffered_counts.BufferedCounts[int, None] = buffered_counts.BufferedCounts(
    "api-request-counts", _write_counts, "API request counts kept for later: Redis unavailable", logger
)


def count_api_request(tenant_id: int) -> None:
    """Count one API request served for the store (in memory; never raises, never waits on the network)."""
    if not is_enabled():
        return
    _local.add(tenant_id)


def push_local_counts() -> int:
    """Add this process's counts to Redis's counting hash (one pipelined round trip); answers how many
    stores' counts were pushed. On failure the counts stay here for the next push."""
    return _local.push()


def counted_so_far() -> dict[int, int]:
    """The counts not yet taken by a flush, per store (for the staff and tests)."""
    if not is_enabled():
        return {}
    push_local_counts()
    return {int(field): int(value) for field, value in _client().hgetall(_keys()[0]).items()}


def take_counts() -> CountWindow | None:
    """Step 1: the window left pending by an unfinished flush, else the counts so far cut into a new one;
    None when nothing was counted."""
    if not is_enabled():
        return None
    push_local_counts()
    new_window = f"{int(time.time() * 1000)}-{secrets.token_hex(4)}"
    answer: list[Any] = _client().eval(_TAKE, 3, *_keys(), new_window)  # type: ignore[no-untyped-call]
    if not answer:
        return None
    window_id, resumed, *flat = answer
    counts = {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
    return CountWindow(window_id.decode(), counts, resumed == 1)


def record_counts(window: CountWindow) -> int:
    """Step 2: the window's counts as `api_requests` usage, once per store and window whatever the
    retries; answers how many stores' counts were new (a replayed window: 0). Counts of stores no longer
    in the registry are dropped (they would refuse the whole batch)."""
    known = set(Tenant.objects.filter(pk__in=window.counts).values_list("pk", flat=True))
    if dropped := sorted(window.counts.keys() - known):
        logger.warning("API requests of unknown stores dropped", extra={"tenant_ids": dropped})
    events = [
        UsageEventIn(tenant_id, Metric.API_REQUESTS, count, window.idempotency_key, window.cut_at)
        for tenant_id, count in sorted(window.counts.items())
        if tenant_id in known and count > 0
    ]
    return sum(services.record_usage_batch(batch).accepted for batch in _batches(events))


def clear_counts(window: CountWindow) -> bool:
    """Step 3: forget the window once recorded (only if it is still the pending one)."""
    pending, window_key = _keys()[1:]
    cleared: int = _client().eval(_CLEAR, 2, pending, window_key, window.window_id)  # type: ignore[no-untyped-call]
    return cleared == 1


def flush_api_request_counts() -> int:
    """Move the API requests counted so far into usage events: a window left by an unfinished flush
    first, then the counts since. Safe to run again at any point, or twice at once. Answers the number
    of windows recorded."""
    flushed = 0
    for _ in range(2):
        window = take_counts()
        if window is None:
            break
        new = record_counts(window)
        clear_counts(window)
        flushed += 1
        logger.info(
            "API requests recorded",
            extra={"window": window.window_id, "stores": len(window.counts), "new": new, "resumed": window.resumed},
        )
        if not window.resumed:
            break
    return flushed


def _batches(events: list[UsageEventIn]) -> Iterable[list[UsageEventIn]]:
    for start in range(0, len(events), MAX_BATCH_SIZE):
        yield events[start : start + MAX_BATCH_SIZE]
