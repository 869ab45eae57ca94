"""What a buyer's account mails them (Django's email backend; console by default): the link that verifies
their address and the link that resets their password. Both open on the root domain, where the account is."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from storefront.buyers import links
from storefront.buyers.models import Buyer
from tenants.routing import platform_url


def _root_link(name: str, **kwargs: Any) -> str:
    # Named in the root's URLconf whatever host (or none: a management command) asks.
    path = reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF, kwargs=kwargs)
    return platform_url().rstrip("/") + path


def _send(template: str, buyer: Buyer, context: dict[str, Any]) -> None:
    context = {"buyer": buyer, **context}
    subject = render_to_string(f"buyers/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"buyers/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [buyer.email])


def send_verification_mail(buyer: Buyer) -> None:
    link = _root_link("buyer-verify-email", token=links.make_verification_token(buyer))
    _send("verify_email", buyer, {"link": link, "days": links.VERIFICATION_DAYS})


def send_password_reset_mail(buyer: Buyer) -> None:
    token = links.password_reset_tokens.make_token(buyer)
    link = _root_link("buyer-password-reset-confirm", uid=links.reset_uid(buyer), token=token)
    _send("password_reset", buyer, {"link": link, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600})
