"""The dashboard's Team section, for the store's owner: who has a login (role, address verified or not),
removing a staff member, inviting someone by email and withdrawing an invitation; and the page behind an
invitation's link, where the invitee chooses a password and joins (tenants.accounts.invitations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from storefront.dashboard.access import LOGIN_URL, owner_required
from tenants.accounts import invitations, selectors, services
from tenants.accounts.email_verification import site_url_of
from tenants.accounts.models import User
from tenants.throttling import throttled


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


def _team_page(request: HttpRequest, form: InviteForm, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "section": "team",
        "members": selectors.store_members(),
        "invitations": selectors.pending_invitations(),
        "form": form,
        "days": invitations.INVITATION_DAYS,
        **extra,
    }
    return render(request, "dashboard/team.html", context, status=status)


def _join_link(request: HttpRequest) -> Callable[[str], str]:
    """Links on the host the owner is using (the store's subdomain or custom domain)."""
    site = site_url_of(request)
    return lambda token: site + reverse("dashboard:join", kwargs={"token": token})


@never_cache
@owner_required
@require_http_methods(["GET"])
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request, InviteForm())


@never_cache
@owner_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, form, status=400)
    try:
        invitation = invitations.invite_staff_member(
            form.cleaned_data["email"], cast(User, request.user), _join_link(request)
        )
    except (invitations.InvitationRefused, services.SeatRefused) as refused:
        form.add_error("email", str(refused))
        return _team_page(request, form, status=409, upgrade_url=getattr(refused, "upgrade_url", ""))
    messages.success(
        request, f"Invitation sent to {invitation.email}. The link works for {invitations.INVITATION_DAYS} days."
    )
    return redirect("dashboard:team")


@never_cache
@owner_required
@require_POST
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    if invitations.revoke_invitation(invitation_id):
        messages.success(request, "Invitation withdrawn: its link no longer works.")
    else:
        messages.info(request, "That invitation was already used or withdrawn.")
    return redirect("dashboard:team")


@never_cache
@owner_required
@require_POST
def remove_member(request: HttpRequest, user_id: int) -> HttpResponse:
    try:
        removed = services.remove_staff_member(user_id)
    except services.MemberNotRemovable as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{removed.email} can no longer sign in, and their API tokens stopped working.")
    return redirect("dashboard:team")


# No login: the link is the proof. Choosing the password shares the sign-in's allowance, as every password form does.
@never_cache
@throttled("auth")
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitations.invitation_for_token(token)
    if invitation is None or invitation.accepted_at is not None or invitation.has_expired:
        return render(request, "dashboard/join.html", {"invitation": invitation, "refused": True}, status=400)
    # Django's password form and validators, checked against the invitee's address.
    form = SetPasswordForm(User(email=invitation.email), request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        try:
            invitations.accept_invitation(token, form.cleaned_data["new_password1"])
        except invitations.InvitationRefused as refused:
            form.add_error(None, str(refused))
            status = 409
        except services.SeatRefused:
            form.add_error(
                None,
                "This store has no staff seat free on its plan just now, so you cannot join yet. "
                "Ask its owner to free a seat or upgrade the plan, then open this link again.",
            )
            status = 409
        else:
            messages.success(request, f"Welcome to {request.tenant.name}: sign in with your new password.")  # type: ignore[attr-defined]
            return redirect(f"{LOGIN_URL}?next={reverse('dashboard:home')}")
    elif form.is_bound:
        status = 400
    return render(request, "dashboard/join.html", {"invitation": invitation, "form": form}, status=status)
