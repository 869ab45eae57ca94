"""A store's owner and staff reset a forgotten password on their store's own host, with Django's own
PasswordResetView family (the "Forgotten your login credentials?" link of the admin's login page appears
once `admin_password_reset` is routed). Two things differ from Django's defaults:

- the token is bound to the store: its HMAC covers the store's slug, so a link made on one store
  never works on another's host, even for a user with the same id, address and password hash there (each
  store's users are numbered from 1, and a merchant may use one address and password for two stores);
- the mailed link names the host the request came to (the store's subdomain or custom domain), over https
  when the platform is served so, whatever the proxy in front said.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from tenants.db_backend import connection
from tenants.throttling import throttled


class StorePasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Django's token (password hash, last login, address, timestamp), keyed to the store being served."""

    key_salt = "tenants.accounts.password_reset.StorePasswordResetTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        # The store's slug names it in both tenancies (a dedicated store's schema is its own database's
        # `public`); the schema answers where no store is being served.
        store = getattr(getattr(connection, "tenant", None), "slug", None) or connection.schema_name
        return f"{super()._make_hash_value(user, timestamp)}|store:{store}"


store_password_reset_tokens = StorePasswordResetTokenGenerator()


@method_decorator(throttled("auth"), name="dispatch")
class StorePasswordResetView(auth_views.PasswordResetView):
    token_generator = store_password_reset_tokens
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        request: HttpRequest = self.request
        self.use_https = request.is_secure() or settings.PLATFORM_URL_SCHEME == "https"
        # The mail says which store the account is for, not just its host name.
        self.extra_email_context = {"site_name": request.tenant.name}  # type: ignore[attr-defined]
        return super().form_valid(form)


# Setting the new password shares the sign-in's allowance, as every password form does.
@method_decorator(throttled("auth"), name="dispatch")
class StorePasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    token_generator = store_password_reset_tokens
    success_url = reverse_lazy("password_reset_complete")
