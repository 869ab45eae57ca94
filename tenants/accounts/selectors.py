"""What the store's owner reads about its accounts: its members with their roles, its API tokens with their
holders, and the invitations still waiting to be accepted. Each list is one query."""

from __future__ import annotations

from tenants.accounts.models import ApiToken, Invitation, Membership


def store_members() -> list[Membership]:
    """The owner first, then staff by when they joined."""
    # "owner" sorts before "staff".
    return list(Membership.objects.select_related("user").order_by("role", "created_at", "pk"))


def store_api_tokens() -> list[ApiToken]:
    """Every token of the store, newest first, with its holder (never its digest)."""
    return list(
        ApiToken.objects.select_related("user")
        .only("pk", "prefix", "created_at", "last_used_at", "user__email")
        .order_by("-created_at", "-pk")
    )


def pending_invitations() -> list[Invitation]:
    """Invitations not yet accepted, newest first; an expired one stays listed until it is revoked."""
    return list(
        Invitation.objects.select_related("invited_by").filter(accepted_at__isnull=True).order_by("-created_at", "-pk")
    )
