"""The staff console's tenant list at fleet scale: search, filters, sorts and keyset pages.

Search finds a part of a store's name, slug, owner's email (the registry's copy, written at signup, then
following the owner's account: tenants.accounts.services.change_email) or any of its hostnames, in any
case, with `%` and `_` taken literally; trigram indexes serve it (migration tenants/0005). Each sort is a
walk of its own index in one direction, the tenant's id last so no two rows tie. A page's `?after=` cursor
holds the sort key of the row it ends on, signed: the next page seeks past that key, so a deep page costs
what the first does, and a cursor that was not made here (garbage, edited, another sort's) is the first
page. No OFFSET and no COUNT(*): whether there is a next page is one more row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core import signing
from django.db import models
from django.db.models import F, Func, Lookup, Q, Value

from tenants.console_extensions import ListFilter, with_row_values
from tenants.models import Domain, Tenant

PAGE_SIZE = 50
LONGEST_SEARCH = 100
_CURSOR_SALT = "tenants.console_list.cursor"


@dataclass(frozen=True)
class Sort:
    label: str
    fields: tuple[str, ...]  # all in one direction, "id" last
    descending: bool


SORTS: dict[str, Sort] = {
    "newest": Sort("Newest first", ("created_at", "id"), descending=True),
    "name": Sort("Name", ("name", "id"), descending=False),
    # Suspended, rejected and the stacks in flight come before the many active stores; newest first in each.
    "status": Sort("Status", ("status", "created_at", "id"), descending=True),
}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class ListQuery:
    """What staff asked for, every part already checked: unknown values were dropped, not refused."""

    search: str = ""
    status: str = ""
    tenancy: str = ""
    sort: str = DEFAULT_SORT
    # Registered filters (tenants.console_extensions) by parameter: their chosen values.
    narrowed: Mapping[str, str] = field(default_factory=dict)
    after: tuple[Any, ...] | None = None

    def as_params(self, **changes: str) -> dict[str, str]:
        """The query string of this list (cursor left out), with ``changes``; empty values left out."""
        params = {"q": self.search, "status": self.status, "tenancy": self.tenancy, **self.narrowed}
        if self.sort != DEFAULT_SORT:
            params["sort"] = self.sort
        params.update(changes)
        return {name: value for name, value in params.items() if value}


@dataclass(frozen=True)
class TenantPage:
    tenants: list[Tenant]
    next_cursor: str  # empty on the last page


def parse_query(
    params: Mapping[str, str], filters: list[ListFilter], choices: Mapping[str, list[tuple[str, str]]]
) -> ListQuery:
    """Read the list's query string. Nothing here raises: what is not understood is ignored."""
    # Control characters (NUL above all, which PostgreSQL refuses in a string) are never part of a search.
    typed = "".join(char for char in str(params.get("q", "")) if char.isprintable() or char.isspace())
    search = " ".join(typed.split())[:LONGEST_SEARCH]
    status = params.get("status", "")
    tenancy = params.get("tenancy", "")
    sort = params.get("sort", "")
    narrowed: dict[str, str] = {}
    for list_filter in filters:
        value = params.get(list_filter.param, "")
        allowed = [choice for choice, _ in choices.get(list_filter.param, [])] if list_filter.choices else ["1"]
        if value and value in allowed:
            narrowed[list_filter.param] = value
    sort = sort if sort in SORTS else DEFAULT_SORT
    return ListQuery(
        search=search,
        status=status if status in Tenant.Status.values else "",
        tenancy=tenancy if tenancy in Tenant.Tenancy.values else "",
        sort=sort,
        narrowed=narrowed,
        after=read_cursor(params.get("after", ""), sort),
    )


class _ContainsAnyCase(Lookup):
    """``column ILIKE '%part%'``, the part's `%`, `_` and `\\` escaped so they match themselves.

    Not Django's icontains (UPPER(column) LIKE UPPER(...)): pg_trgm folds case in its trigrams, so a plain
    gin_trgm_ops index of the column serves ILIKE, and the planner estimates it well enough to walk the
    sort's index instead when nearly every store matches.
    """

    lookup_name = "contains_any_case"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, tuple[str]]:
        return "%s", (f"%{connection.ops.prep_for_like_query(value)}%",)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", (*lhs_params, *rhs_params)


class _IsAnyOf(Lookup):
    """``column = ANY(ARRAY(SELECT ...))``: the subquery runs once, and its ids join the bitmap of the
    other conditions through the primary key (an ``IN (subquery)`` under OR would rule the indexes out)."""

    lookup_name = "is_any_of"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def matching(search: str) -> Q:
    """Stores whose name, slug, owner's email or one of whose hostnames holds ``search``, in any case."""
    hostnames = Domain.objects.filter(_ContainsAnyCase(F("domain"), search)).order_by().values("tenant_id")
    return (
        Q(_ContainsAnyCase(F("name"), search))
        | Q(_ContainsAnyCase(F("slug"), search))
        | Q(_ContainsAnyCase(F("owner_email"), search))
        | Q(_IsAnyOf(F("pk"), ArraySubquery(hostnames)))
    )


class _Row(Func):
    """A row constructor, (a, b, c): compared as a whole, it lets PostgreSQL seek into a multi-column index."""

    function = "ROW"
    output_field = models.Field()


def tenant_page(query: ListQuery, filters: list[ListFilter], size: int = PAGE_SIZE) -> TenantPage:
    """One page of the list (one query, plus whatever the registered row values cost: none extra)."""
    tenants = Tenant.objects.defer("pending_owner_password")
    if query.search:
        tenants = tenants.filter(matching(query.search))
    if query.status:
        tenants = tenants.filter(status=query.status)
    if query.tenancy:
        tenants = tenants.filter(tenancy=query.tenancy)
    for list_filter in filters:
        if value := query.narrowed.get(list_filter.param):
            tenants = list_filter.narrow(tenants, value)
    sort = SORTS[query.sort]
    if query.after is not None:
        past = "sort_key__lt" if sort.descending else "sort_key__gt"
        bound = _Row(*(Value(value) for value in query.after))
        tenants = tenants.alias(sort_key=_Row(*sort.fields)).filter(**{past: bound})
    order = [f"-{name}" if sort.descending else name for name in sort.fields]
    rows = list(with_row_values(tenants).order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return TenantPage(rows, make_cursor(query.sort, rows[-1]) if more else "")


def make_cursor(sort: str, tenant: Tenant) -> str:
    values = [getattr(tenant, name) for name in SORTS[sort].fields]
    return signing.dumps([sort, *(v.isoformat() if isinstance(v, datetime) else v for v in values)], salt=_CURSOR_SALT)


def read_cursor(cursor: str, sort: str) -> tuple[Any, ...] | None:
    """The sort key a cursor of this sort holds, or None (no cursor, or one that was not made here for it)."""
    if not cursor:
        return None
    try:
        payload = signing.loads(cursor, salt=_CURSOR_SALT)
    except signing.BadSignature:
        return None
    fields = SORTS[sort].fields
    if not isinstance(payload, list) or len(payload) != len(fields) + 1 or payload[0] != sort:
        return None
    values: list[Any] = []
    for name, value in zip(fields, payload[1:], strict=True):
        if name == "id":
            if type(value) is not int:
                return None
        elif name == "created_at":
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                return None
            if value.tzinfo is None:
                return None
        elif not isinstance(value, str):
            return None
        values.append(value)
    return tuple(values)
