"""The one owner of a tenant's state in the registry: its status, tenancy, domains, upstream, database, and
copies of its plan and owner's email. Every change goes through a function here, which checks the transition
is legal, writes it in one transaction with a record of who did it and why, tells the marketplace whether the
store is listed, and evicts the store's routes once the change is committed. Nothing else writes those
fields, not even the admin.

The marketplace sits above this layer, so it hears of visibility changes through `on_visibility_change`,
a hook it registers when Django starts; the call is made inside the changing transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from tenants.models import Domain, Tenant, TenantStateChange
from tenants.routing import forget_hostnames, store_hostname

logger = logging.getLogger(__name__)
Status = Tenant.Status

# Which status may follow which. Anything else is refused with IllegalTransition and changes nothing.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.ACTIVE: frozenset({Status.SUSPENDED, Status.MIGRATING, Status.DEPROVISIONING}),
    # Suspended again: staff give their own reason to a store closed for another (billing's hold).
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.SUSPENDED, Status.DEPROVISIONING}),
    Status.PENDING_PROVISIONING: frozenset({Status.PROVISIONING, Status.REJECTED}),
    # Built and switched live, or a cancelled run back to the queue.
    Status.PROVISIONING: frozenset({Status.ACTIVE, Status.PENDING_PROVISIONING}),
    # Switched to its own stack, or the upgrade cancelled before the switch (reopened shared).
    Status.MIGRATING: frozenset({Status.ACTIVE}),
    # Taken down, or the run cancelled before its point of no return.
    Status.DEPROVISIONING: frozenset({Status.DEPROVISIONED, Status.ACTIVE}),
    Status.REJECTED: frozenset(),
    Status.DEPROVISIONED: frozenset(),
}
# Listings of stores in these states are shown on the marketplace (an upgrade's short close keeps them).
LISTED_STATUSES = frozenset({Status.ACTIVE, Status.MIGRATING})
# Fields a transition may set along with the status (reasons, and what a stack's switch or removal changes).
_COMPANION_FIELDS = frozenset(
    {"suspension_reason", "rejection_reason", "pending_owner_password", "tenancy", "database_name", "upstream_url"}
)


class IllegalTransition(ValueError):
    """The tenant is not in a state that may change that way; nothing was written."""


@dataclass(frozen=True)
class Actor:
    """Who changes a tenant: a person (their user id and email) or a part of the platform (`system:<name>`)."""

    label: str
    user_id: int | None = None

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls(label=f"user:{getattr(user, 'email', '') or user.pk}", user_id=user.pk)

    @classmethod
    def system(cls, part: str) -> Actor:
        return cls(label=f"system:{part}")


VisibilityListener = Callable[[int, bool], object]
_visibility_listeners: list[VisibilityListener] = []


def on_visibility_change(listener: VisibilityListener) -> None:
    """Call `listener(tenant_id, listed)` in the transaction of every change that shows or hides a store."""
    if listener not in _visibility_listeners:
        _visibility_listeners.append(listener)


def is_legal(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def change_status(
    tenant: Tenant,
    new_status: str,
    *,
    by: Actor,
    reason: str = "",
    expected: Iterable[str] | None = None,
    **fields: Any,
) -> Tenant:
    """Move `tenant` to `new_status` (with companion `fields`), if legal from its current state and, when
    `expected` is given, only from one of those states. Returns the tenant as stored."""
    unknown = set(fields) - _COMPANION_FIELDS
    if unknown:
        raise TypeError(f"change_status cannot set {sorted(unknown)}")
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        current = locked.status
        if expected is not None and current not in set(expected):
            raise IllegalTransition(f"'{locked.slug}' is {current}; expected {', '.join(sorted(expected))}.")
        if not is_legal(current, new_status):
            raise IllegalTransition(f"'{locked.slug}' cannot go from {current} to {new_status}.")
        changes = {"status": [current, new_status]}
        for name, value in fields.items():
            if getattr(locked, name) != value:
                changes[name] = [_shown(name, getattr(locked, name)), _shown(name, value)]
            setattr(locked, name, value)
        locked.status = new_status
        locked.save(update_fields=["status", *fields, "updated_at"])
        _record(locked, by, reason, changes)
        if (current in LISTED_STATUSES) != (new_status in LISTED_STATUSES):
            for listener in _visibility_listeners:
                listener(locked.pk, new_status in LISTED_STATUSES)
        _evict_on_commit(locked)
    logger.info(
        "tenant status changed",
        extra={"tenant": locked.slug, "from": current, "to": new_status, "by": by.label, "reason": reason},
    )
    return locked


def suspend(tenant: Tenant, reason: str, *, by: Actor) -> Tenant:
    """Close the store to buyers and its API; its data is kept untouched, its listings hidden at once.
    A suspended store suspended again keeps closed with the new reason."""
    reason = reason.strip()[:200] or "Suspended by the platform."
    return change_status(
        tenant,
        Status.SUSPENDED,
        by=by,
        reason=reason,
        expected=[Status.ACTIVE, Status.SUSPENDED],
        suspension_reason=reason,
    )


def reactivate(tenant: Tenant, *, by: Actor, reason: str = "") -> Tenant:
    """Reopen a suspended store, its listings shown again."""
    return change_status(tenant, Status.ACTIVE, by=by, reason=reason, expected=[Status.SUSPENDED], suspension_reason="")


def add_domain(tenant: Tenant, hostname: str, *, by: Actor, is_primary: bool = False) -> Domain:
    with transaction.atomic():
        domain = Domain.objects.create(domain=hostname.lower(), tenant=tenant, is_primary=is_primary)
        _record(tenant, by, "", {"domains": [None, domain.domain]})
        _evict_on_commit(tenant, [domain.domain])
    return domain


def set_domains(tenant: Tenant, hostnames: list[str], *, by: Actor) -> None:
    """Make `hostnames` exactly the store's hostnames, the first one primary (replaying changes nothing)."""
    hostnames = [host.lower() for host in hostnames]
    with transaction.atomic():
        before = list(Domain.objects.filter(tenant=tenant).order_by("pk").values_list("domain", "is_primary"))
        Domain.objects.filter(tenant=tenant).exclude(domain__in=hostnames).delete()
        for position, hostname in enumerate(hostnames):
            Domain.objects.update_or_create(domain=hostname, defaults={"tenant": tenant, "is_primary": position == 0})
        after = [(host, position == 0) for position, host in enumerate(hostnames)]
        if sorted(before) != sorted(after):
            _record(tenant, by, "", {"domains": [[h for h, _ in before], hostnames]})
        _evict_on_commit(tenant, [host for host, _ in before])


def save_domain_edits(
    tenant: Tenant, changed: Iterable[Domain], removed: Iterable[Domain], *, by: Actor, reason: str = ""
) -> None:
    """Apply hostname edits made by hand (the platform admin): new or changed rows saved, removed ones deleted."""
    changed, removed = list(changed), list(removed)
    if not changed and not removed:
        return
    with transaction.atomic():
        old_names = list(Domain.objects.filter(pk__in=[d.pk for d in changed if d.pk]).values_list("domain", flat=True))
        for domain in removed:
            domain.delete()
        for domain in changed:
            domain.domain = domain.domain.lower()
            domain.tenant = tenant
            domain.save()
        _record(
            tenant,
            by,
            reason,
            {"domains": [[d.domain for d in removed] + old_names, [d.domain for d in changed]]},
        )
        _evict_on_commit(tenant, [*old_names, *(d.domain for d in removed), *(d.domain for d in changed)])


def set_upstream(tenant: Tenant, url: str, *, by: Actor, replacing: str | None = None) -> bool:
    """Point a dedicated store's hostnames at its stack's web endpoint (empty: not served). With `replacing`,
    only if the current upstream is still that one (a newer stack process may have taken over). Returns
    whether it changed."""
    with transaction.atomic():
        rows = Tenant.objects.filter(pk=tenant.pk)
        if replacing is not None:
            rows = rows.filter(upstream_url=replacing)
        changed = rows.exclude(upstream_url=url).update(upstream_url=url)
        if changed:
            _record(tenant, by, "", {"upstream_url": [replacing, url]})
            _evict_on_commit(tenant)
    return bool(changed)


def record_database(tenant: Tenant, database_name: str, *, by: Actor) -> None:
    """Note the dedicated database (or stack identifier) a provisioning run made for the store."""
    with transaction.atomic():
        if Tenant.objects.filter(pk=tenant.pk).exclude(database_name=database_name).update(database_name=database_name):
            _record(tenant, by, "", {"database_name": [None, database_name]})


def record_plan(tenant: Tenant, plan_code: str, *, by: Actor) -> None:
    """The registry's copy of the store's plan, shown to staff (billing owns the subscription itself)."""
    with transaction.atomic():
        if Tenant.objects.filter(pk=tenant.pk).exclude(plan_code=plan_code).update(plan_code=plan_code):
            _record(tenant, by, "", {"plan_code": [tenant.plan_code, plan_code]})


def record_owner_email(tenant: Tenant, email: str, *, by: Actor) -> None:
    """The registry's copy of the owner's address (staff search it, billing and provisioning mail it), following
    the owner's account (tenants.accounts.services.change_email); on a dedicated stack, its own row."""
    with transaction.atomic():
        old = Tenant.objects.select_for_update().values_list("owner_email", flat=True).get(pk=tenant.pk)
        if old != email:
            Tenant.objects.filter(pk=tenant.pk).update(owner_email=email)
            _record(tenant, by, "", {"owner_email": [old, email]})


def remove_stack(tenant: Tenant, final_status: str, *, by: Actor) -> int:
    """The record of a stack that is gone: `final_status` (deprovisioned, or rejected staying rejected), no
    database or upstream on record, and (deprovisioned) its hostnames freed. Returns hostnames removed."""
    cleared = {"database_name": "", "upstream_url": "", "pending_owner_password": ""}
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        hostnames = list(Domain.objects.filter(tenant=locked).values_list("domain", flat=True))
        if locked.status == final_status:
            changes = {name: [_shown(name, getattr(locked, name)), ""] for name in cleared if getattr(locked, name)}
            Tenant.objects.filter(pk=locked.pk).update(**cleared)
            if changes:
                _record(locked, by, "", changes)
        else:
            change_status(locked, final_status, by=by, **cleared)
        removed = 0
        if final_status == Status.DEPROVISIONED:
            removed, _ = Domain.objects.filter(tenant=locked).delete()
            if removed:
                _record(locked, by, "", {"domains": [hostnames, []]})
        _evict_on_commit(locked, hostnames)
    return removed


def _shown(name: str, value: Any) -> Any:
    # The password hash held for a dedicated owner never goes into the audit trail.
    return "(hidden)" if name == "pending_owner_password" and value else value


def _record(tenant: Tenant, by: Actor, reason: str, changes: dict[str, Any]) -> None:
    TenantStateChange.objects.create(
        tenant_id=tenant.pk, actor=by.label[:200], actor_user_id=by.user_id, reason=reason[:500], changes=changes
    )


def _evict_on_commit(tenant: Tenant, extra_hostnames: Iterable[str] = ()) -> None:
    """Forget every route to the store once the change is committed (and now, in this process, so the
    changing request itself sees it): the hostnames it has now, had before, and its platform hostname."""
    hostnames = set(Domain.objects.filter(tenant_id=tenant.pk).values_list("domain", flat=True))
    hostnames.update(extra_hostnames)
    hostnames.add(store_hostname(tenant.slug))
    names = sorted(hostnames)
    forget_hostnames(names)
    transaction.on_commit(lambda: forget_hostnames(names))
