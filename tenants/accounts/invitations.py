"""Inviting someone to a store's staff by email: a stored Invitation and a signed link naming it, mailed for the
store's own host. Opening the link and choosing a password makes them staff through `add_staff_member`, so the
plan's staff seats hold (a refusal creates nothing, and the invitation stays pending).

The link is bound to its store the way the email verification's is (tenants.accounts.email_verification): it
names the store's slug and is refused on any other store's host. The row makes it work once (it is marked
accepted), makes it revocable (the row is deleted) and holds its expiry (INVITATION_DAYS); inviting the same
address again replaces the row, so only the newest link works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from tenants.accounts.email_verification import _store_slug
from tenants.accounts.models import Invitation, Membership, User
from tenants.accounts.services import add_membership, add_staff_member, check_staff_seat
from tenants.advisory_locks import hold_until_commit, store_lock_name
from tenants.db_backend import connection

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7
_SALT = "tenants.accounts.invitation"


class InvitationRefused(Exception):
    """An invitation could not be made or accepted; its message says why, in words for the person."""


def make_invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "e": invitation.email, "s": _store_slug()}, salt=_SALT)


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a genuine token of this store names, accepted or expired or not (the caller words those),
    or None for a forged or mangled token, one made on another store, or one whose invitation was revoked or
    replaced."""
    return _invitation_named_by(token, lock=False)


def _invitation_named_by(token: str, *, lock: bool) -> Invitation | None:
    try:
        payload = signing.loads(token, salt=_SALT)
        if str(payload["s"]) != _store_slug():
            return None
        invitation_id, email = int(payload["i"]), str(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    invitations = Invitation.objects.select_for_update() if lock else Invitation.objects.all()
    return invitations.filter(pk=invitation_id, email=email).first()


def _login_in_use(email: str) -> bool:
    """Someone with this address can sign in to the store, or is still its member (a deactivated member too)."""
    return (
        User.objects.filter(email__iexact=email).filter(is_active=True).exists()
        or Membership.objects.filter(user__email__iexact=email).exists()
    )


def invite_staff_member(email: str, invited_by: User, link_for: Callable[[str], str]) -> Invitation:
    """Invite `email` to the current store's staff and mail them the link `link_for(token)` (a URL on the store's
    host) once the transaction commits. Refused (InvitationRefused, or SeatRefused from the seat guards, with
    nothing created) for an address that already has a login here, or when the plan has no staff seat left.
    A pending invitation for the same address is replaced: its link stops working."""
    email = User.objects.normalize_email(email.strip())
    if _login_in_use(email):
        raise InvitationRefused(f"{email} already has a login to this store.")
    # An early answer for the owner; the seat is counted again, under the store's lock, when the link is used.
    check_staff_seat()
    with transaction.atomic():
        # One invitation of this store at a time: two sent at once for one address end as one, not a 500.
        hold_until_commit(store_lock_name("staff-invitations"))
        Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True).delete()
        invitation = Invitation.objects.create(
            email=email, invited_by=invited_by, expires_at=timezone.now() + timedelta(days=INVITATION_DAYS)
        )
        _mail_on_commit(invitation, link_for(make_invitation_token(invitation)))
    return invitation


def revoke_invitation(invitation_id: int) -> bool:
    """Withdraw a pending invitation: its link stops working. False when there was none pending."""
    deleted, _ = Invitation.objects.filter(pk=invitation_id, accepted_at__isnull=True).delete()
    return deleted > 0


def accept_invitation(token: str, password: str) -> User:
    """Make the invitee of `token` staff of the current store with `password` (checked by the caller against
    the password validators), and mark the invitation used. Their address counts as verified: the link reached
    them there. A member removed earlier gets their login back. Refused (InvitationRefused, or SeatRefused
    past the plan's staff seats) with nothing changed."""
    with transaction.atomic():
        # Locked, so the same link opened twice at once makes one member.
        invitation = _invitation_named_by(token, lock=True)
        if invitation is None:
            raise InvitationRefused("This invitation does not work: it may have been withdrawn or replaced.")
        if invitation.accepted_at is not None:
            raise InvitationRefused("This invitation has been used already: sign in instead.")
        if invitation.has_expired:
            raise InvitationRefused("This invitation has expired: ask the store's owner for a new one.")
        former = User.objects.filter(email__iexact=invitation.email).first()
        if former is None:
            user = add_staff_member(invitation.email, password)
        elif _login_in_use(invitation.email):
            raise InvitationRefused(f"{invitation.email} already has a login to this store: sign in instead.")
        else:
            user = _reinstate(former, password)
        now = timezone.now()
        user.email_verified_at = now
        user.save(update_fields=["email_verified_at"])
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
    return user


def _reinstate(former: User, password: str) -> User:
    """A staff member removed earlier (deactivated, no membership), staff again with a new password."""
    former.set_password(password)
    former.is_active, former.is_staff, former.is_superuser = True, True, False
    former.save(update_fields=["password", "is_active", "is_staff", "is_superuser"])
    add_membership(former, Membership.Role.STAFF)
    return former


def _mail_on_commit(invitation: Invitation, link: str) -> None:
    store = getattr(getattr(connection, "tenant", None), "name", "") or "a store"
    context = {"invitation": invitation, "store": store, "link": link, "days": INVITATION_DAYS}
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
        except Exception:  # noqa: BLE001 - the invitation is made; the owner can invite again to resend it
            logger.exception("could not mail a staff invitation")

    transaction.on_commit(send)
