"""The fake's state: objects by id, events, errors in Stripe's format, webhook signing."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
from typing import Any


class StripeError(Exception):
    """Answered as Stripe answers errors: ``{"error": {"type", "code", "message", "param"}}``."""

    def __init__(
        self, status: int, message: str, *, code: str = "", param: str = "", kind: str = "invalid_request_error"
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.kind = status, message, code, param, kind

    def body(self) -> dict[str, Any]:
        error = {"type": self.kind, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, object_id: str) -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id")


def required(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise StripeError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    return params[name]


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=<unix>,v1=<HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class FakeState:
    """Objects keyed by id per kind, and every event in the order it happened."""

    def __init__(self, webhook_secret: str = "whsec_fake") -> None:
        self.lock = threading.RLock()
        self.webhook_secret = webhook_secret
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        # (account, key) -> the first request (method, path, params) and its answer (status, body)
        self.idempotent_responses: dict[tuple[str, str], tuple[tuple[str, str, dict[str, Any]], tuple[int, Any]]] = {}
        self.clock_offset = 0  # seconds added to the wall clock (test clocks)
        self.requests = 0
        self.base_url = ""

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    @staticmethod
    def new_id(prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def table(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(kind, {})

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        try:
            return self.table(kind)[object_id]
        except KeyError:
            raise missing(kind, object_id) from None

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        self.table(kind)[obj["id"]] = obj
        return obj

    def emit(
        self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None, *, account: str = ""
    ) -> dict[str, Any]:
        """Record an event carrying a snapshot of ``obj`` (later changes do not alter it); ``account``: the
        connected account it happened on (a Connect event)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = previous
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": self.now(),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": data,
        }
        if account:
            event["account"] = account
        self.events.append(event)
        return event

    def signed(self, event: dict[str, Any], *, secret: str | None = None) -> tuple[str, str]:
        """The webhook body for ``event`` and its ``Stripe-Signature`` header."""
        body = json.dumps(event)
        return body, sign_payload(body, secret or self.webhook_secret)


def list_object(url: str, items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """A Stripe list: ``limit`` (default 10, at most 100) after ``starting_after``, ``has_more``."""
    limit = min(int(params.get("limit") or 10), 100)
    after = params.get("starting_after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "url": url, "has_more": len(items) > limit, "data": items[:limit]}


def created_filter(items: list[dict[str, Any]], created: Any) -> list[dict[str, Any]]:
    """Stripe's ``created[gte]``/``created[lt]``... range filter, or an exact ``created``."""
    if created in (None, ""):
        return items
    if not isinstance(created, dict):
        return [item for item in items if item["created"] == int(created)]
    checks = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
    for op, value in created.items():
        items = [item for item in items if checks[op](item["created"], int(value))]
    return items
