"""The dashboard's Team section, the owner's alone: members with their role and verified address, removing a
staff member (their login and API tokens stop at once), and inviting someone by a link mailed for the store's
host that works once, on that store only, until it expires or is withdrawn, within the plan's staff seats."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from billing.models import Plan
from onboarding.services import SignupResult
from tenants.accounts.models import ApiToken, Invitation, Membership, User
from tenants.accounts.services import add_staff_member
from tenants.db_backend import connection
from tests.conftest import STRONG_PASSWORD, store_api, store_host, token_for
from tests.storefront.buyers.conftest import mails
from tests.storefront.conftest import SchemaKeepingBrowser, admin_browser

__all__ = ["mails"]  # `with mails():` sends what a request leaves for after its commit (the test's never commits)
pytestmark = pytest.mark.django_db

INVITEE = "sam@example.com"
OWNER_ONLY = "Only the store's owner may do this."


def html(response: Any) -> str:
    return str(response.content.decode())


def staff_seats(count: int | None) -> None:
    Plan.objects.filter(code="starter").update(staff_seats=count)


def browser(store: SignupResult) -> Client:
    return SchemaKeepingBrowser(HTTP_HOST=store_host(store.tenant.slug))


def signed_in(store: SignupResult, email: str, password: str = STRONG_PASSWORD) -> Client:
    client = browser(store)
    response = client.post("/admin/login/?next=/dashboard/", {"username": email, "password": password})
    assert response.status_code == 302 and response["Location"] == "/dashboard/", html(response)
    return client


def staff_member(store: SignupResult, email: str = "helper@example.com") -> User:
    """A staff member added through the service (the admin's way), in the store's schema."""
    connection.set_tenant(store.tenant)
    try:
        return add_staff_member(email, STRONG_PASSWORD)
    finally:
        connection.set_schema_to_public()


def in_schema(store: SignupResult, read: Any) -> Any:
    connection.set_tenant(store.tenant)
    try:
        return read()
    finally:
        connection.set_schema_to_public()


def invite(owner: Client, mails: Any, email: str = INVITEE) -> Any:
    with mails():
        return owner.post("/dashboard/team/invite/", {"email": email})


def join_link(message: mail.EmailMessage, store: SignupResult) -> str:
    """The path of the mail's link, after checking it is on the store's own host."""
    found = re.search(rf"http://{re.escape(store_host(store.tenant.slug))}(/dashboard/join/\S+/)", str(message.body))
    assert found is not None, message.body
    return found.group(1)


def choose_password(store: SignupResult, link: str, password: str = STRONG_PASSWORD) -> Any:
    return browser(store).post(link, {"new_password1": password, "new_password2": password})


def test_the_owner_invites_someone_who_joins_once_and_signs_in_to_the_dashboard(store, mails, mailoutbox):
    # Given the owner on the Team page, which lists them as the verified-or-not owner
    staff_seats(5)
    owner = admin_browser(store)
    page = owner.get("/dashboard/team/")
    assert page.status_code == 200 and store.owner.email in html(page) and "Owner" in html(page)
    assert "no-store" in page["Cache-Control"]

    # When they invite someone by email
    sent = invite(owner, mails)

    # Then a mail with a link on the store's own host goes to them, and the invitation is listed as pending
    assert sent.status_code == 302 and sent["Location"] == "/dashboard/team/"
    (message,) = mailoutbox
    assert message.to == [INVITEE] and store.tenant.name in message.subject
    link = join_link(message, store)
    assert INVITEE in html(owner.get("/dashboard/team/")).split("Pending invitations")[1]

    # When the invitee opens it, a password too weak for Django's validators is refused with nothing made
    opened = browser(store).get(link)
    assert opened.status_code == 200 and INVITEE in html(opened) and "Choose a password" in html(opened)
    weak = choose_password(store, link, "password")
    assert weak.status_code == 400 and "This password is too common." in html(weak)
    assert not in_schema(store, lambda: User.objects.filter(email=INVITEE).exists())

    # And with a good password they join and are sent to sign in
    joined = choose_password(store, link)
    assert joined.status_code == 302 and joined["Location"] == "/admin/login/?next=/dashboard/"

    # Then they sign in to the dashboard as staff, their address verified by the link
    assert signed_in(store, INVITEE).get("/dashboard/").status_code == 200
    member = in_schema(store, lambda: Membership.objects.select_related("user").get(user__email=INVITEE))
    assert member.role == "staff" and member.user.is_active and member.user.email_verified_at is not None
    team = html(owner.get("/dashboard/team/"))
    assert INVITEE in team.split("Pending invitations")[0] and "No invitations waiting." in team

    # And the link works once: opened or posted again, it makes nobody
    again = browser(store).get(link)
    assert again.status_code == 400 and "This invitation has been used" in html(again)
    assert choose_password(store, link, "An0ther-long-passphrase").status_code == 400
    assert in_schema(store, lambda: User.objects.filter(email__iexact=INVITEE).count()) == 1
    assert signed_in(store, INVITEE).get("/dashboard/").status_code == 200  # the first password stands


def test_a_link_made_for_one_store_does_nothing_on_another_stores_host(make_store, mails, mailoutbox):
    # Given two stores whose owners invited the same address: as far as a link can see, the same invitation
    # (each store numbers its invitations from 1)
    staff_seats(5)
    first, second = make_store(), make_store()
    invite(admin_browser(first), mails)
    invite(admin_browser(second), mails)
    first_link = join_link(mailoutbox[0], first)
    same_id = in_schema(first, lambda: Invitation.objects.get().pk)
    in_schema(second, lambda: Invitation.objects.update(id=same_id))

    # When the first store's link is opened and used on the second store's host
    opened = browser(second).get(first_link)
    used = choose_password(second, first_link)

    # Then it does nothing there: nobody joins either store, both invitations still wait
    assert opened.status_code == 400 and "This invitation does not work" in html(opened)
    assert used.status_code == 400
    for store in (first, second):
        assert not in_schema(store, lambda: User.objects.filter(email=INVITEE).exists())
        assert in_schema(store, lambda: Invitation.objects.filter(accepted_at__isnull=True).count()) == 1

    # While on its own store's host it works, and only there
    assert choose_password(first, first_link).status_code == 302
    assert in_schema(first, lambda: User.objects.filter(email=INVITEE).exists())
    assert not in_schema(second, lambda: User.objects.filter(email=INVITEE).exists())


def test_an_expired_forged_withdrawn_or_replaced_link_does_nothing(store, mails, mailoutbox):
    # Given an invitation whose genuine link has expired
    staff_seats(5)
    owner = admin_browser(store)
    invite(owner, mails)
    link = join_link(mailoutbox[-1], store)
    in_schema(store, lambda: Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1)))

    # When it is opened and used, and when forged ones are (a mangled signature; the right payload signed
    # with another key; the right key under another purpose's salt)
    token = link.split("/")[3]
    invitation = in_schema(store, lambda: Invitation.objects.get())
    payload = {"i": invitation.pk, "e": INVITEE, "s": store.tenant.slug}
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        signing.dumps(payload, key="not-our-secret", salt="tenants.accounts.invitation"),
        signing.dumps(payload, salt="tenants.accounts.verify-email"),
    ]
    expired = browser(store).get(link)

    # Then the expired one says so, the forged ones do not work, and nobody joins
    assert expired.status_code == 400 and "This invitation has expired" in html(expired)
    assert choose_password(store, link).status_code == 400
    for fake in forged:
        path = f"/dashboard/join/{fake}/"
        assert browser(store).get(path).status_code == 400
        assert choose_password(store, path).status_code == 400
    assert not in_schema(store, lambda: User.objects.filter(email=INVITEE).exists())
    assert "Expired" in html(owner.get("/dashboard/team/"))

    # And inviting again replaces it: the old link stays dead, the new one works
    invite(owner, mails)
    assert choose_password(store, link).status_code == 400
    assert choose_password(store, join_link(mailoutbox[-1], store)).status_code == 302

    # And a withdrawn invitation's link does nothing either
    invite(owner, mails, "kim@example.com")
    withdrawn_link = join_link(mailoutbox[-1], store)
    pending = in_schema(store, lambda: Invitation.objects.get(email="kim@example.com", accepted_at__isnull=True))
    withdrawn = owner.post(f"/dashboard/team/invitations/{pending.pk}/revoke/")
    assert withdrawn.status_code == 302
    assert "No invitations waiting." in html(owner.get("/dashboard/team/"))
    assert browser(store).get(withdrawn_link).status_code == 400
    assert choose_password(store, withdrawn_link).status_code == 400
    assert not in_schema(store, lambda: User.objects.filter(email="kim@example.com").exists())


def test_the_plans_staff_seats_refuse_an_invitation_or_a_join_in_words_creating_nothing(store, mails, mailoutbox):
    # Given a plan with one staff seat and an invitation made while it was free
    staff_seats(1)
    owner = admin_browser(store)
    invite(owner, mails)
    link = join_link(mailoutbox[-1], store)

    # When the seat is taken before the invitee joins
    staff_member(store)
    joined = choose_password(store, link)

    # Then joining is refused in words, with nobody made and the invitation still pending
    assert joined.status_code == 409 and "no staff seat free" in html(joined)
    assert not in_schema(store, lambda: User.objects.filter(email=INVITEE).exists())
    assert in_schema(store, lambda: Invitation.objects.filter(accepted_at__isnull=True).count()) == 1

    # And inviting someone else now is refused in words, with no invitation made and no mail sent
    sent = len(mailoutbox)
    refused = invite(owner, mails, "kim@example.com")
    assert refused.status_code == 409 and "1 staff seats" in html(refused) and "Upgrade your plan" in html(refused)
    assert not in_schema(store, lambda: Invitation.objects.filter(email="kim@example.com").exists())
    assert len(mailoutbox) == sent

    # And someone who already has a login is not invited
    taken = invite(owner, mails, "HELPER@example.com")
    assert taken.status_code == 409 and "already has a login" in html(taken)
    assert len(mailoutbox) == sent


def test_removing_a_staff_member_stops_their_login_and_tokens_at_once(store, mails, mailoutbox):
    # Given a staff member whose token works (and is answered from the cached check)
    staff_seats(1)
    helper = staff_member(store)
    api = store_api(store.tenant.slug, token_for(store_api(store.tenant.slug), helper.email))
    assert api.get("/api/v1/products").status_code == 200
    assert api.get("/api/v1/products").status_code == 200
    their_browser = signed_in(store, helper.email)
    owner = admin_browser(store)
    assert helper.email in html(owner.get("/dashboard/team/"))

    # When the owner removes them
    removed = owner.post(f"/dashboard/team/members/{helper.pk}/remove/")

    # Then their token is refused on the very next request, and their login and session are gone
    assert removed.status_code == 302 and removed["Location"] == "/dashboard/team/"
    assert api.get("/api/v1/products").status_code == 401
    assert their_browser.get("/dashboard/").status_code == 302
    refused = browser(store).post(
        "/admin/login/?next=/dashboard/", {"username": helper.email, "password": STRONG_PASSWORD}
    )
    assert refused.status_code == 200
    assert not in_schema(store, lambda: ApiToken.objects.filter(user_id=helper.pk).exists())
    assert not in_schema(store, lambda: User.objects.get(pk=helper.pk).is_active)
    assert helper.email not in html(owner.get("/dashboard/team/")).split("<h1>Team</h1>")[1]

    # And their seat is free: invited again, they join and sign in once more
    invite(owner, mails, helper.email)
    assert choose_password(store, join_link(mailoutbox[-1], store)).status_code == 302
    assert signed_in(store, helper.email).get("/dashboard/").status_code == 200
    assert in_schema(store, lambda: User.objects.filter(email__iexact=helper.email).count()) == 1


def test_the_owner_is_never_removed(store):
    owner = admin_browser(store)

    answer = owner.post(f"/dashboard/team/members/{store.owner.pk}/remove/", follow=True)

    assert "The store&#x27;s owner cannot be removed." in html(answer)
    assert in_schema(store, lambda: Membership.objects.get(user_id=store.owner.pk).role) == "owner"
    assert store_api(store.tenant.slug, store.token).get("/api/v1/products").status_code == 200


def test_staff_cannot_see_or_use_the_team_pages_and_visitors_are_sent_to_sign_in(store, mails, mailoutbox):
    # Given a staff member signed in, and a pending invitation of the owner's
    staff_seats(5)
    helper = staff_member(store)
    other = staff_member(store, "other@example.com")
    invite(admin_browser(store), mails)
    pending = in_schema(store, lambda: Invitation.objects.get())
    mailoutbox.clear()
    staff = signed_in(store, helper.email)

    # When they open the page or post any of its forms
    answers = [
        staff.get("/dashboard/team/"),
        staff.post("/dashboard/team/invite/", {"email": "kim@example.com"}),
        staff.post(f"/dashboard/team/invitations/{pending.pk}/revoke/"),
        staff.post(f"/dashboard/team/members/{other.pk}/remove/"),
    ]

    # Then each is a 403 that says why, and nothing happened
    for answer in answers:
        assert answer.status_code == 403 and OWNER_ONLY in html(answer)
    assert not mailoutbox
    assert in_schema(store, lambda: list(Invitation.objects.values_list("email", flat=True))) == [INVITEE]
    assert in_schema(store, lambda: Membership.objects.filter(user_id=other.pk).exists())

    # And a visitor is sent to the store's login
    visitor = browser(store).get("/dashboard/team/")
    assert visitor.status_code == 302 and visitor["Location"] == "/admin/login/?next=/dashboard/team/"
