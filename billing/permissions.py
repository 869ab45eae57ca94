"""Who may see and change a store's billing: its owner, on its own host, and nobody else."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import get_public_schema_name
from rest_framework import permissions

from config.db_backend import connection
from tenants.accounts.models import Membership


class IsStoreOwner(permissions.BasePermission):
    """The request's user holds the owner membership of the store whose schema serves the request.

    Accounts live in each store's schema, so another store's token never authenticates here at all
    (401); the store's staff are members but not owners (403).
    """

    message = "Only the store's owner may see or change its billing."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated) or connection.schema_name == get_public_schema_name():
            return False
        return Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists()
