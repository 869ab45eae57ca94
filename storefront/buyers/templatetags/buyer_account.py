"""The root domain's header for buyers: who is signed in, with links to their orders and account, or a sign-in
link (`{% buyer_links %}`). Only the root's pages use it: a store's pages have their own header."""

from __future__ import annotations

from typing import Any

from django import template

from storefront.buyers.web import root_buyer_account

register = template.Library()


@register.inclusion_tag("buyers/_header_links.html", takes_context=True)
def buyer_links(context: Any) -> dict[str, Any]:
    request = context.get("request")
    session = getattr(request, "session", None)
    # A visitor without a session costs no query.
    account = root_buyer_account(request) if session is not None and session.session_key else None
    return {"account": account, "csrf_token": context.get("csrf_token")}
