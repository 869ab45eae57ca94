"""Mail to merchants about their dedicated request: refused (with the staff's reason) or live."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from tenants.models import Tenant
from tenants.routing import platform_url, store_url

logger = logging.getLogger(__name__)


def _send(tenant: Tenant, subject: str, template: str) -> None:
    body = render_to_string(
        template, {"tenant": tenant, "store_url": store_url(tenant.slug), "platform_url": platform_url()}
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [tenant.owner_email])
    except Exception:  # noqa: BLE001 - the decision stands and is on record; the mail can be re-sent
        logger.exception("could not send mail to a merchant", extra={"tenant": tenant.slug, "subject": subject})


def send_rejection(tenant: Tenant) -> None:
    _send(tenant, f"Your dedicated store request for {tenant.name}", "provisioning/email/rejected.txt")


def send_store_live(tenant: Tenant) -> None:
    _send(tenant, f"{tenant.name} is live on its own stack", "provisioning/email/live.txt")
