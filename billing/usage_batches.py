"""Checking usage events before they are recorded: the rules a batch must pass, and the parsing of the
(platform-internal) ingest API's JSON rows. Pure Python (no ORM), so it is property-tested in milliseconds."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# The most events one call (and one API request) may carry: one multi-row INSERT, well under a second.
MAX_BATCH_SIZE = 1_000
MAX_KEY_LENGTH = 100
# Usage stamped further ahead than this is a sender's broken clock, not usage.
USAGE_CLOCK_SKEW = timedelta(minutes=5)
REQUIRED_FIELDS = ("store", "metric", "quantity", "idempotency_key")
ROW_FIELDS = frozenset({*REQUIRED_FIELDS, "occurred_at"})
BAD_KEY = "Usage needs an idempotency key of 1 to 100 characters."


@dataclass(frozen=True)
class UsageEventIn:
    """One usage event to record: ``quantity`` of ``metric`` for a store, once per ``idempotency_key``
    (the sender's name for the event, e.g. ``order-1001-gmv``); ``occurred_at`` None means now."""

    tenant_id: int
    metric: str
    quantity: int
    idempotency_key: str
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RowError:
    """Why the event at ``index`` of a batch was refused: ``code`` for programs, ``message`` for people,
    ``field`` the event's field at fault (empty when it is the event or the batch as a whole)."""

    index: int
    code: str
    message: str
    field: str = ""


def check_event(event: UsageEventIn, index: int, *, metrics: Collection[str], now: datetime) -> RowError | None:
    """The first rule ``event`` breaks, or None."""
    if event.metric not in metrics:
        return RowError(
            index, "unknown_metric", f"Unknown metric '{event.metric}'; one of {', '.join(metrics)}.", "metric"
        )
    quantity = event.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        return RowError(
            index, "bad_quantity", f"A usage quantity is a non-negative whole number, not {quantity!r}.", "quantity"
        )
    if quantity >= 2**63:
        return RowError(index, "bad_quantity", f"A usage quantity must be below 2**63, not {quantity}.", "quantity")
    key = event.idempotency_key
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH or "\x00" in key:
        return RowError(index, "bad_idempotency_key", BAD_KEY, "idempotency_key")
    if event.occurred_at is not None and event.occurred_at > now + USAGE_CLOCK_SKEW:
        return RowError(
            index, "usage_in_future", f"Usage at {event.occurred_at.isoformat()} is in the future.", "occurred_at"
        )
    return None


def check_batch(events: Sequence[UsageEventIn], *, metrics: Collection[str], now: datetime) -> list[RowError]:
    """Every refused event of a batch, in order (an empty list: the batch may be recorded).

    Besides each event's own rules, a batch may repeat a key only for the very same usage (a sender
    resending part of a batch); the same key for different usage in one batch is refused, as it is
    across batches.
    """
    if len(events) > MAX_BATCH_SIZE:
        return [RowError(MAX_BATCH_SIZE, "batch_too_large", f"At most {MAX_BATCH_SIZE:,} usage events per batch.")]
    errors: list[RowError] = []
    first_use: dict[tuple[int, str], UsageEventIn] = {}
    for index, event in enumerate(events):
        error = check_event(event, index, metrics=metrics, now=now)
        if error is None:
            seen = first_use.setdefault((event.tenant_id, event.idempotency_key), event)
            if (seen.metric, seen.quantity) != (event.metric, event.quantity):
                error = RowError(
                    index,
                    "idempotency_key_reused",
                    f"Idempotency key '{event.idempotency_key}' is used earlier in this batch for other usage.",
                    "idempotency_key",
                )
        if error is not None:
            errors.append(error)
    return errors


def store_slugs(rows: Any) -> set[str]:
    """The stores the ingest API's rows name (to look their ids up in one query before parse_rows)."""
    if not isinstance(rows, list):
        return set()
    return {row["store"] for row in rows if isinstance(row, Mapping) and isinstance(row.get("store"), str)}


def parse_rows(rows: Any, tenant_ids: Mapping[str, int]) -> tuple[list[UsageEventIn], list[RowError]]:
    """The ingest API's ``events`` (a list of JSON objects, each naming its ``store`` by slug) as usage
    events, given the ids of the stores they name, and the errors of rows that are not even shaped like
    usage or name no known store (the rules themselves are check_batch's)."""
    if not isinstance(rows, list) or not rows:
        return [], [RowError(0, "bad_batch", "Send 'events': a list of 1 to 1,000 usage events.")]
    if len(rows) > MAX_BATCH_SIZE:
        return [], [RowError(MAX_BATCH_SIZE, "batch_too_large", f"At most {MAX_BATCH_SIZE:,} usage events per batch.")]
    events: list[UsageEventIn] = []
    errors: list[RowError] = []
    for index, row in enumerate(rows):
        event = _parse_row(row, index, tenant_ids)
        if isinstance(event, RowError):
            errors.append(event)
        else:
            events.append(event)
    return events, errors


def _parse_row(row: Any, index: int, tenant_ids: Mapping[str, int]) -> UsageEventIn | RowError:
    if not isinstance(row, Mapping):
        return RowError(
            index, "bad_row", "A usage event is an object with store, metric, quantity and idempotency_key."
        )
    unknown = sorted(set(row) - ROW_FIELDS)
    if unknown:
        return RowError(index, "unknown_field", f"Unknown field(s): {', '.join(map(str, unknown))}.", str(unknown[0]))
    missing = sorted(name for name in REQUIRED_FIELDS if name not in row)
    if missing:
        return RowError(index, "missing_field", f"Missing field(s): {', '.join(missing)}.", missing[0])
    store = row["store"]
    tenant_id = tenant_ids.get(store) if isinstance(store, str) else None
    if tenant_id is None:
        return RowError(index, "unknown_store", f"No store has the slug {store!r}.", "store")
    occurred_at = row.get("occurred_at")
    if occurred_at is not None:
        occurred_at = _parse_moment(occurred_at)
        if occurred_at is None:
            return RowError(
                index,
                "bad_occurred_at",
                "occurred_at is an ISO 8601 time with a UTC offset, e.g. 2025-06-01T09:30:00Z.",
                "occurred_at",
            )
    metric, key = row["metric"], row["idempotency_key"]
    if not isinstance(metric, str):
        return RowError(index, "unknown_metric", f"A metric is a name such as 'orders', not {metric!r}.", "metric")
    if not isinstance(key, str):
        return RowError(index, "bad_idempotency_key", BAD_KEY, "idempotency_key")
    return UsageEventIn(tenant_id, metric, row["quantity"], key, occurred_at)


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
