"""The merchant signup form on the root domain. A new shared store's owner is carried to its admin by a
single-use login link (tenants.handoff), POSTed by a self-submitting form: never in a URL."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from onboarding import services
from onboarding.forms import SignupForm
from tenants.handoff import make_handoff_token
from tenants.routing import store_url
from tenants.throttling import throttled

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


def _signup_context(form: SignupForm) -> dict[str, object]:
    # The store address as it will be, split around the part the merchant chooses.
    before, after = store_url("your-store").split("your-store", 1)
    return {"form": form, "address_before": before, "address_after": after.rstrip("/")}


@require_http_methods(["GET", "POST"])
@throttled("signup")
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = SignupForm(initial={"form_token": _issue_form_token(request)})
        return render(request, "onboarding/signup.html", _signup_context(form))

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
                return render(request, "onboarding/signup_pending.html", {"tenant": result.tenant})
            # Not a redirect with the token in its query: query strings are written to every access log
            # (ours, proxies') and sent on as Referer. A form POSTs it to the store's host instead (it
            # submits itself, or with its button where scripts are off).
            context = {
                "tenant": result.tenant,
                "handoff_url": f"{store_url(result.tenant.slug)}accounts/handoff/",
                "token": make_handoff_token(result.tenant.slug, result.owner.pk),
            }
            response = render(request, "onboarding/handoff.html", context)
            response["Cache-Control"] = "no-store"
            return response
    # Show the answers again with a fresh one-time token for the next attempt.
    data = request.POST.copy()
    data["form_token"] = _issue_form_token(request)
    form.data = data
    return render(request, "onboarding/signup.html", _signup_context(form), status=400)
