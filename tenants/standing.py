"""A dedicated store's standing on the platform, as its stack knows it: whether the platform has it open
(its status and suspension reason) and its plan's limits. On AWS a stack's hostnames reach its own load
balancer, not the platform, so the stack itself asks `POST <MARKETPLACE_API_URL>/api/v1/dedicated/standing`
with its publishing token (billing.dedicated_api answers; the token names the store), and its tenant
middleware closes the store as the platform closes a shared one (tenants.middleware).

A standing is fresh for FRESH_SECONDS, so requests within that time cost no round trip; the last copy is
kept for KEPT_SECONDS. When the control plane cannot be asked (unreachable, refusing the token, answering
what is not a standing) the last copy stands, and with none the store keeps serving as it is: a stack never
closes, nor fails a request, because the platform is away. A failed ask is not repeated for FRESH_SECONDS.
Entries record the stack they were made on (`STACK_ID`) and are a miss anywhere else."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from tenants.models import Tenant
from tenants.platform_calls import PlatformRefused, PlatformUnreachable, call_control_plane, keep_answer, kept_answer

logger = logging.getLogger(__name__)

STANDING_PATH = "/api/v1/dedicated/standing"
FRESH_SECONDS = 30
KEPT_SECONDS = 7 * 24 * 3600
# Asked in the request path: a control plane that hangs costs one request this long, once per FRESH_SECONDS.
TIMEOUT_SECONDS = 3.0
ANSWER_LIMIT = 20_000
FRESH_KEY = "tenants:standing:fresh"
COPY_KEY = "tenants:standing:copy"


@dataclass(frozen=True)
class Standing:
    """The control plane's word on the store: ``status`` (a Tenant.Status), why it is suspended, and its
    plan (``plan_code`` "" when it has none) with a limit per resource (None: unlimited)."""

    status: str
    suspension_reason: str
    plan_code: str
    plan_name: str
    limits: dict[str, int | None]

    @property
    def is_open(self) -> bool:
        return self.status == Tenant.Status.ACTIVE


def _limit(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise ValueError(f"not a limit: {value!r}")


def read_standing(answer: Any) -> Standing:
    """The standing in the control plane's answer (raises ValueError for anything else)."""
    if not isinstance(answer, dict):
        raise ValueError("not a standing")
    status, reason, plan = answer.get("status"), answer.get("suspension_reason") or "", answer.get("plan")
    if status not in Tenant.Status.values or not isinstance(reason, str):
        raise ValueError(f"not a store's status: {status!r}")
    if plan is None:
        return Standing(status=status, suspension_reason=reason, plan_code="", plan_name="", limits={})
    if not isinstance(plan, dict):
        raise ValueError("not a plan")
    code, limits = plan.get("code"), plan.get("limits")
    name = plan.get("name") or code
    if not (isinstance(code, str) and isinstance(name, str) and isinstance(limits, dict)):
        raise ValueError("not a plan with limits")
    return Standing(
        status=status,
        suspension_reason=reason,
        plan_code=code,
        plan_name=name,
        limits={str(resource): _limit(value) for resource, value in limits.items()},
    )


def _ask() -> dict[str, Any]:
    answer = json.loads(call_control_plane(STANDING_PATH, {}, timeout=TIMEOUT_SECONDS, answer_limit=ANSWER_LIMIT))
    read_standing(answer)  # refuse garbage before it is kept
    return dict(answer)


def store_standing() -> Standing | None:
    """The store's standing: fresh from the cache, else asked, else the last copy kept; None when the
    control plane has never been reached (the store keeps serving as it is)."""
    fresh = kept_answer(FRESH_KEY)
    if fresh is None:
        try:
            answer: dict[str, Any] | None = _ask()
        except PlatformRefused as error:
            answer = _last_copy(f"the control plane refused: HTTP {error.status}")
        except (PlatformUnreachable, ValueError) as error:
            answer = _last_copy(f"the control plane did not answer a standing: {error}")
        else:
            keep_answer(COPY_KEY, answer, KEPT_SECONDS)
        # A failed ask is not repeated by every request: the copy (or nothing) stands for as long.
        keep_answer(FRESH_KEY, answer, FRESH_SECONDS)
        fresh = (answer,)
    if fresh[0] is None:
        return None
    try:
        return read_standing(fresh[0])
    except ValueError:  # kept by another release of the stack, in a shape this one does not read
        logger.warning("unreadable store standing in the cache: the store keeps serving", exc_info=True)
        return None


def _last_copy(reason: str) -> dict[str, Any] | None:
    copy = kept_answer(COPY_KEY)
    kept = copy[0] if copy is not None else None
    logger.warning(
        "store standing not fetched: %s; %s",
        reason,
        "the last copy stands" if kept is not None else "no copy kept, the store keeps serving",
        extra={"copy_kept": kept is not None},
    )
    return kept


def apply_standing(tenant: Tenant) -> None:
    """Give this request's `tenant` (the stack's registry row, which is written once when the stack is
    registered) the status the control plane holds, so the store is closed as a shared one would be."""
    standing = store_standing()
    if standing is not None:
        tenant.status = standing.status
        tenant.suspension_reason = standing.suspension_reason
