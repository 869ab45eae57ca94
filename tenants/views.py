"""Pages of the tenant registry: merchant signup on the root domain, and the login handoff that
lands a new owner in their store's admin."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from storefront.marketplace.pages import marketplace_search_context
from tenants import services
from tenants.forms import SignupForm
from tenants.handoff import make_handoff_token, redeem_handoff_token
from tenants.models import Tenant
from tenants.routing import store_url

_FORM_TOKENS = "signup_form_tokens"


def _issue_form_token(request: HttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    request.session[_FORM_TOKENS] = [*request.session.get(_FORM_TOKENS, [])[-9:], token]
    return token


def _spend_form_token(request: HttpRequest, token: str) -> bool:
    tokens = request.session.get(_FORM_TOKENS, [])
    if token not in tokens:
        return False
    tokens.remove(token)
    request.session[_FORM_TOKENS] = tokens
    return True


def marketplace_home(request: HttpRequest) -> HttpResponse:
    stores = Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("name")[:50]
    rows = [{"store": store, "url": store_url(store.slug)} for store in stores]
    return render(request, "tenants/marketplace_home.html", {"rows": rows, **marketplace_search_context(request)})


def _signup_context(form: SignupForm) -> dict[str, object]:
    # The store address as it will be, split around the part the merchant chooses.
    before, after = store_url("your-store").split("your-store", 1)
    return {"form": form, "address_before": before, "address_after": after.rstrip("/")}


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = SignupForm(initial={"form_token": _issue_form_token(request)})
        return render(request, "tenants/signup.html", _signup_context(form))

    form = SignupForm(request.POST)
    if form.is_valid() and not _spend_form_token(request, form.cleaned_data["form_token"]):
        form.add_error(None, "This form was already submitted. If your store was created, log in to it.")
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "form_token"}
        try:
            result = services.sign_up_merchant(services.SignupRequest(**data))
        except services.SignupError as error:
            for name, messages in error.errors.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            if result.owner is None:
                return render(request, "tenants/signup_pending.html", {"tenant": result.tenant})
            token = make_handoff_token(result.tenant.slug, result.owner.pk)
            return HttpResponseRedirect(f"{store_url(result.tenant.slug)}accounts/handoff/?token={token}")
    # Show the answers again with a fresh one-time token for the next attempt.
    data = request.POST.copy()
    data["form_token"] = _issue_form_token(request)
    form.data = data
    return render(request, "tenants/signup.html", _signup_context(form), status=400)


def login_handoff(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    user_id = redeem_handoff_token(request.GET.get("token", ""), tenant.slug)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("/admin/login/?next=/admin/")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("/admin/")
