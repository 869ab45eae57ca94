"""Billing in the store admin's own pages: the account banner (payment failed, store closed...) and
the link to the billing page, both for the store's owner only."""

from __future__ import annotations

from typing import Any

from django import template

from billing.dunning import billing_notice
from billing.models import Subscription
from tenants.models import Tenant

register = template.Library()


def _store_owner_tenant(context: Any) -> Tenant | None:
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    # A store's owner is the superuser of its schema (tenants.accounts.services.add_staff_member);
    # the platform admin's request.tenant is no store.
    if not isinstance(tenant, Tenant) or user is None or not user.is_authenticated or not user.is_superuser:
        return None
    return tenant


@register.inclusion_tag("billing/portal/banner.html", takes_context=True)
def billing_banner(context: Any) -> dict[str, Any]:
    """One query, on store admin pages for the owner only."""
    tenant = _store_owner_tenant(context)
    subscription = Subscription.objects.filter(tenant_id=tenant.pk).first() if tenant else None
    return {"notice": billing_notice(subscription) if subscription else None, "portal_url": "/admin/billing/"}


@register.simple_tag(takes_context=True)
def shows_billing_link(context: Any) -> bool:
    return _store_owner_tenant(context) is not None
