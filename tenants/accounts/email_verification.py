"""A store user's email verification, on their store's own host: the signed link (`django.core.signing` with a
salt of its own, naming the user, the address it was sent to and the store), marking the address verified,
and mailing the link (Django's email backend; console by default).

A link is bound to the store the way the password reset's token is (tenants.accounts.password_reset): each
store numbers its users from 1 and one person may use one address in two stores, so a link names the store's
slug and is refused on any other store's host. It stops working once the user's address changed, and after
VERIFICATION_DAYS; an expired but genuine link still says whose it was, so its page can offer a new one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenants.accounts.models import User
from tenants.db_backend import connection

logger = logging.getLogger(__name__)

VERIFICATION_DAYS = 3
_SALT = "tenants.accounts.verify-email"


@dataclass(frozen=True)
class VerificationLink:
    """What a verification token names, once its signature is known to be ours and its store this one."""

    user_id: int
    email: str
    expired: bool


def _store_slug() -> str:
    # The store's slug names it in both tenancies (a dedicated store's schema is its own database's
    # `public`); the schema answers where no store is being served.
    return getattr(getattr(connection, "tenant", None), "slug", None) or connection.schema_name


def make_verification_token(user: User) -> str:
    """A token for `user` of the store being served, for the address they have now."""
    return signing.dumps({"u": user.pk, "e": user.email, "s": _store_slug()}, salt=_SALT)


def read_verification_token(token: str) -> VerificationLink | None:
    """The user and address a genuine token of this store names (expired or not), or None for a forged or
    mangled token, or one made on another store."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=timedelta(days=VERIFICATION_DAYS))
        expired = False
    except signing.SignatureExpired:
        payload, expired = signing.loads(token, salt=_SALT), True
    except signing.BadSignature:
        return None
    try:
        if str(payload["s"]) != _store_slug():
            return None
        return VerificationLink(int(payload["u"]), str(payload["e"]), expired)
    except (KeyError, TypeError, ValueError):
        return None


def verify_email(link: VerificationLink) -> User | None:
    """Mark the address an unexpired link was sent to as verified; None if the user is inactive or has another
    address now. Opening the link again is harmless: the first time is kept."""
    if link.expired:
        return None
    user = User.objects.filter(pk=link.user_id, is_active=True, email__iexact=link.email).first()
    if user is not None and user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(email_verified_at=user.email_verified_at)
    return user


def site_url_of(request: HttpRequest) -> str:
    """The host a request came to, over https when the platform is served so, whatever the proxy in front said."""
    scheme = "https" if request.is_secure() or settings.PLATFORM_URL_SCHEME == "https" else "http"
    return f"{scheme}://{request.get_host()}"


def send_verification_link(user: User, site_url: str) -> bool:
    """Mail `user` a new link on `site_url` (the store's host, as `https://shop.example.com`) once the current
    transaction commits; False, with nothing sent, when their address is verified already or they are inactive.

    The link and the mail are made now, while this store is being served; a mail server that is down does not
    fail the work that committed (the member asks again from the admin's banner)."""
    if user.email_verified_at is not None or not user.is_active:
        return False
    # Named in the store hosts' URLconf whatever host (the root's signup) asks.
    path = reverse("admin_verify_email", urlconf=settings.ROOT_URLCONF, kwargs={"token": make_verification_token(user)})
    link = site_url.rstrip("/") + path
    store = getattr(getattr(connection, "tenant", None), "name", "") or "your store"
    context = {"user": user, "store": store, "link": link, "days": VERIFICATION_DAYS}
    subject = render_to_string("accounts/email/verify_email_subject.txt", context).strip()
    body = render_to_string("accounts/email/verify_email.txt", context)

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except Exception:  # noqa: BLE001 - see the docstring: the member can ask for the link again
            logger.exception("could not mail an email verification link")

    transaction.on_commit(send)
    return True
