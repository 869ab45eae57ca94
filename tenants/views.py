"""The login handoff that lands a new owner (or a signed-in merchant) in their store's dashboard."""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tenants.handoff import redeem_handoff_token


# No CSRF cookie of the store's host exists yet: the token is the proof (signed, for this store only,
# single-use, two minutes). GET is refused, so a token in a URL is never redeemed.
@csrf_exempt
@require_POST
@never_cache
def login_handoff(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    user_id = redeem_handoff_token(request.POST.get("token", ""), tenant.slug)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("/admin/login/?next=/dashboard/")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("/dashboard/")
