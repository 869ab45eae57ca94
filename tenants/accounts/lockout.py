"""django-axes' hooks (see AXES_* in settings): who a login attempt is for, and what a locked-out client sees.

Axes counts wrong passwords per (email, client address) pair, so the email is qualified with the schema the
login was made in: a lockout on one store's admin never touches the same email on another store or on the root
host, whatever handler axes stores its counts with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from tenants.db_backend import connection
from tenants.throttling import too_many_attempts


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    # The admin's form names the field `username`, the token API `email`; axes' own backend files either
    # under `email` (our USERNAME_FIELD).
    typed = (credentials or {}).get("email") or (credentials or {}).get("username") or ""
    if not typed:
        typed = request.POST.get("username") or request.POST.get("email") or ""
    # Emails are stored as typed but compared exactly; folding case keeps "Ana@" and "ana@" one count.
    return f"{connection.schema_name}:{str(typed).strip().lower()}"


def lockout_message() -> str:
    # The same words whether or not the account exists: axes counts typed emails, not accounts.
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return f"Too many failed logins with this email from your address. Please try again in {minutes} minutes."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    retry_after = settings.AXES_COOLOFF_TIME.total_seconds()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=429)
        response["Retry-After"] = str(int(retry_after))
        return response
    return too_many_attempts(request, lockout_message(), retry_after)
