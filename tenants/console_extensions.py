"""What the layers above tenants add to the staff console without tenants importing them: filters of the
tenant list, values shown on its rows, and panels of a tenant's page. Billing and provisioning register
theirs when Django starts (their AppConfig.ready), as the marketplace does with lifecycle's hook.

Each contribution costs its own queries, so the console's pinned query counts grow by what is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.expressions import BaseExpression

from tenants.models import Tenant


@dataclass(frozen=True)
class ListFilter:
    """A filter of the tenant list, read from the query parameter ``param``.

    With ``choices`` (called once per page: [(value, label), ...]) it is a select and ``narrow`` gets the
    chosen value, one of them; without, it is a checkbox and ``narrow`` gets "1". Any other value is ignored.
    """

    param: str
    label: str
    narrow: Callable[[QuerySet[Tenant], str], QuerySet[Tenant]]
    choices: Callable[[], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class Panel:
    """A section of a tenant's page: ``template`` rendered with what ``context(tenant)`` returns."""

    key: str
    title: str
    template: str
    context: Callable[[Tenant], Mapping[str, object]]
    position: int = 100


_filters: dict[str, ListFilter] = {}
_row_values: dict[str, Callable[[], BaseExpression]] = {}
_panels: dict[str, Panel] = {}


def add_list_filter(list_filter: ListFilter) -> None:
    _filters[list_filter.param] = list_filter


def add_row_value(name: str, expression: Callable[[], BaseExpression]) -> None:
    """Annotate every row of the list (and a row re-rendered after an action) with ``name``: a correlated
    subquery is computed for the page's rows only, after the keyset limit."""
    _row_values[name] = expression


def add_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def list_filters() -> list[ListFilter]:
    return list(_filters.values())


def with_row_values(tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    return tenants.annotate(**{name: expression() for name, expression in _row_values.items()})


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.position, panel.key))
