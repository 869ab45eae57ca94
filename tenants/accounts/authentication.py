"""DRF authentication with `Authorization: Bearer <token>`, resolved in the request's own schema."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions

from tenants.accounts.services import user_for_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        user = user_for_token(header[1].decode(errors="replace"))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token for this host.")
        return user, None

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
