"""The dashboard's sections, for its navigation (a context processor: every dashboard page has them)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from storefront.catalog import selectors

# (key, label, url); a section's page sets `section` to its key for aria-current.
SECTIONS = (
    ("home", "Home", "/dashboard/"),
    ("orders", "Orders", "/dashboard/orders/"),
    ("products", "Products", "/dashboard/products/"),
    ("messages", "Messages", "/dashboard/messages/"),
    ("story", "Your story", "/dashboard/story/"),
    ("payouts", "Payouts", "/dashboard/payouts/"),
    ("billing", "Plan and bills", "/admin/billing/"),
    ("team", "Team", "/dashboard/team/"),
    ("tokens", "API tokens", "/dashboard/tokens/"),
)


def sections(request: HttpRequest) -> dict[str, Any]:
    if not request.path.startswith("/dashboard/"):
        return {}
    # Read only by a page that shows it (base.html), not by the fragments htmx asks for.
    return {"dashboard_sections": SECTIONS, "brand_colour": SimpleLazyObject(selectors.brand_colour)}
