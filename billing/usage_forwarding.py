"""A dedicated store's usage on the platform's bill. Its stack (TENANCY_MODE=dedicated) measures and records
the store's usage in its own database (orders when paid, billing.api_metering, billing.storage_metering),
where nobody bills it; this module hands those events to the platform.

``forward_usage`` (beat task `billing.forward_usage` every USAGE_FORWARD_SECONDS on a dedicated stack, or
``manage.py forward_usage``) sends the events not forwarded yet, oldest first, MAX_BATCH_SIZE a request, to
``POST <MARKETPLACE_API_URL>/api/v1/dedicated/usage-events`` with the store's MARKETPLACE_PUBLISHING_TOKEN
(the credential its listing drain uses too; the token, not the body, names the store). Each event keeps its
own idempotency key and occurred_at, so the platform bills it in the period it happened in, once.

- A batch's events are marked forwarded only after the platform answered 2xx. Any failure (the platform
  unreachable, a 5xx, a refused token) stops the run and leaves them for the next: nothing is lost.
- A batch the platform recorded but whose answer was lost is sent again by the next run and counts once
  there (same keys: duplicates). So do two runs at once, which may send the same batch.
- A key the platform already holds for other usage (refused as ``idempotency_key_reused``: say the day's
  storage, measured by the shared platform before the store moved to its own stack) is settled as it is
  on the platform in a race (billing.storage_metering): the first usage under a key is kept. Those events
  are marked forwarded and the rest of the batch is sent again, so one event never blocks the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from billing.models import UsageEvent
from billing.usage_batches import MAX_BATCH_SIZE
from tenants.platform_calls import PlatformRefused, PlatformUnreachable, post_json

logger = logging.getLogger(__name__)

USAGE_PATH = "/api/v1/dedicated/usage-events"


def is_forwarding_stack() -> bool:
    """Whether this is a dedicated store's stack, whose usage reaches the bill only once forwarded."""
    return settings.TENANCY_MODE == "dedicated"


class ForwardFailed(Exception):
    """The platform did not take the batch; its events stay unforwarded for the next run."""


class KeysTaken(ForwardFailed):
    """The platform refused the batch only because it holds some of its keys for other usage."""

    def __init__(self, indexes: set[int]) -> None:
        super().__init__(f"the platform holds {len(indexes)} of the batch's keys for other usage")
        self.indexes = indexes


@dataclass(frozen=True)
class PendingEvent:
    pk: int
    metric: str
    quantity: int
    idempotency_key: str
    occurred_at: datetime

    def as_row(self) -> dict[str, Any]:
        """The event as the platform's endpoint takes it (billing.usage_api.DedicatedUsageEventsView)."""
        return {
            "metric": self.metric,
            "quantity": self.quantity,
            "idempotency_key": self.idempotency_key,
            "occurred_at": self.occurred_at.isoformat(),
        }


class UsageSender(Protocol):
    def send(self, events: Sequence[PendingEvent]) -> None:
        """Return once the platform has the events; raise ForwardFailed (or KeysTaken) otherwise."""


class ApiUsageSender:
    """POSTs batches to the platform's root host with the store's publishing token."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + USAGE_PATH
        self.token = token
        self.timeout = timeout

    def send(self, events: Sequence[PendingEvent]) -> None:
        payload = {"events": [event.as_row() for event in events]}
        try:
            post_json(self.url, self.token, payload, timeout=self.timeout)
        except PlatformRefused as error:
            taken = _keys_taken(error.answer, len(events)) if error.status == 400 else None
            if taken:
                raise KeysTaken(taken) from error
            raise ForwardFailed(f"the platform refused the usage: {error}") from error
        except PlatformUnreachable as error:
            raise ForwardFailed(f"the platform is unreachable: {error}") from error


def _keys_taken(answer: bytes, size: int) -> set[int] | None:
    """The batch positions of a refusal that names only keys held for other usage, else None."""
    try:
        errors = json.loads(answer)["errors"]
        codes = {error["code"] for error in errors}
        indexes = {int(error["index"]) for error in errors}
    except (ValueError, KeyError, TypeError):
        return None
    if codes != {"idempotency_key_reused"} or not all(0 <= index < size for index in indexes):
        return None
    return indexes


def configured_sender() -> UsageSender:
    if not (settings.MARKETPLACE_API_URL and settings.MARKETPLACE_PUBLISHING_TOKEN):
        raise ForwardFailed("MARKETPLACE_API_URL and MARKETPLACE_PUBLISHING_TOKEN must be set to forward usage")
    return ApiUsageSender(settings.MARKETPLACE_API_URL, settings.MARKETPLACE_PUBLISHING_TOKEN)


def pending_events(limit: int) -> list[PendingEvent]:
    """The oldest events not forwarded yet (the partial index of the unforwarded, in id order)."""
    rows = (
        UsageEvent.objects.filter(forwarded_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "metric", "quantity", "idempotency_key", "occurred_at")[:limit]
    )
    return [PendingEvent(*row) for row in rows]


def _mark_forwarded(events: Sequence[PendingEvent]) -> None:
    UsageEvent.objects.filter(pk__in=[event.pk for event in events]).update(forwarded_at=timezone.now())


def _forward_batch(sender: UsageSender, batch: list[PendingEvent]) -> int:
    try:
        sender.send(batch)
    except KeysTaken as taken:
        settled = [event for index, event in enumerate(batch) if index in taken.indexes]
        rest = [event for index, event in enumerate(batch) if index not in taken.indexes]
        logger.warning(
            "usage the platform holds under the same keys for other usage kept as it is there",
            extra={"idempotency_keys": [event.idempotency_key for event in settled]},
        )
        _mark_forwarded(settled)
        if rest:
            sender.send(rest)
            _mark_forwarded(rest)
        return len(rest)
    _mark_forwarded(batch)
    return len(batch)


def forward_usage(sender: UsageSender | None = None, *, batch_size: int = MAX_BATCH_SIZE) -> int:
    """Send every event not forwarded yet to the platform, a batch at a time; answers how many the
    platform took. Raises ForwardFailed at the first batch it did not take (earlier batches stay
    forwarded, that one and the later ones wait for the next run)."""
    if not is_forwarding_stack():
        # On the platform the events are its own bill: sent under one store's token they would all be its.
        raise ForwardFailed("Only a dedicated store's stack (TENANCY_MODE=dedicated) forwards its usage.")
    if not 0 < batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be 1 to {MAX_BATCH_SIZE}")
    sender = sender or configured_sender()
    forwarded = 0
    while batch := pending_events(batch_size):
        forwarded += _forward_batch(sender, batch)
        if len(batch) < batch_size:
            break
    if forwarded:
        logger.info("usage forwarded to the platform", extra={"events": forwarded})
    return forwarded
