"""Store accounts in the store admin's own pages: the banner asking an unverified member to verify their
email address (tenants.accounts.email_verification)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from tenants.models import Tenant

register = template.Library()


@register.inclusion_tag("accounts/email_verification_banner.html", takes_context=True)
def email_verification_banner(context: Any) -> dict[str, Any]:
    """No query: the logged-in user is loaded already. The platform admin's request.tenant is no store."""
    request = context.get("request")
    user = getattr(request, "user", None)
    on_a_store = isinstance(getattr(request, "tenant", None), Tenant)
    if not on_a_store or user is None or not user.is_authenticated or not user.is_staff:
        return {"email": ""}
    if user.email_verified_at is not None:
        return {"email": ""}
    return {"email": user.email, "send_url": reverse("admin_verify_email_send")}
