"""The dashboard's API tokens section, the owner's alone: the store's tokens with their holders, a new token
shown once on a page no cache keeps and working against the API at once, and revoking one, refused by the
API from the next request on."""

from __future__ import annotations

import re

import pytest

from tenants.accounts.models import ApiToken
from tests.conftest import store_api, token_for
from tests.storefront.conftest import admin_browser
from tests.storefront.dashboard.test_team import (
    OWNER_ONLY,
    browser,
    html,
    in_schema,
    signed_in,
    staff_member,
    staff_seats,
)

pytestmark = pytest.mark.django_db

RAW_TOKEN = re.compile(r"lb_[A-Za-z0-9_-]{40,}")


def test_a_new_token_is_shown_once_and_works_against_the_api(store):
    # Given the owner on the tokens page, listing the token signup gave them
    owner = admin_browser(store)
    page = owner.get("/dashboard/tokens/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert store.token[:10] in html(page) and store.owner.email in html(page)
    assert not RAW_TOKEN.search(html(page))

    # When they create one
    created = owner.post("/dashboard/tokens/")

    # Then the page shows it in full, once, and no cache may keep that page
    assert created.status_code == 201 and "no-store" in created["Cache-Control"]
    (raw,) = RAW_TOKEN.findall(html(created))
    assert "shown only this once" in html(created)
    assert in_schema(store, lambda: ApiToken.objects.count()) == 2

    # And it works against the API straight away, recorded as used
    assert store_api(store.tenant.slug, raw).get("/api/v1/products").status_code == 200
    listed = html(owner.get("/dashboard/tokens/"))
    assert raw[:10] in listed and "Never" in listed  # the signup token is unused; the new one was used

    # And no later page shows it again
    assert raw not in listed and not RAW_TOKEN.search(listed)


def test_revoking_a_token_makes_the_api_refuse_it_on_the_next_request(store):
    # Given a token the API accepts, answered from the cached check the second time
    owner = admin_browser(store)
    (raw,) = RAW_TOKEN.findall(html(owner.post("/dashboard/tokens/")))
    api = store_api(store.tenant.slug, raw)
    assert api.get("/api/v1/products").status_code == 200
    assert api.get("/api/v1/products").status_code == 200
    token = in_schema(store, lambda: ApiToken.objects.get(prefix=raw[:10]))

    # When the owner revokes it
    revoked = owner.post(f"/dashboard/tokens/{token.pk}/revoke/")

    # Then the API refuses it at once, the list no longer has it, and the store's other token still works
    assert revoked.status_code == 302 and revoked["Location"] == "/dashboard/tokens/"
    assert api.get("/api/v1/products").status_code == 401
    assert raw[:10] not in html(owner.get("/dashboard/tokens/"))
    assert store_api(store.tenant.slug, store.token).get("/api/v1/products").status_code == 200

    # And revoking it again changes nothing
    assert owner.post(f"/dashboard/tokens/{token.pk}/revoke/").status_code == 302
    assert in_schema(store, lambda: ApiToken.objects.count()) == 1


def test_the_owner_sees_and_revokes_a_staff_members_token(store):
    # Given a staff member holding a token of their own
    staff_seats(1)
    helper = staff_member(store)
    raw = token_for(store_api(store.tenant.slug), helper.email)
    owner = admin_browser(store)
    page = html(owner.get("/dashboard/tokens/"))
    assert raw[:10] in page and helper.email in page

    # When the owner revokes it
    token = in_schema(store, lambda: ApiToken.objects.get(user_id=helper.pk))
    owner.post(f"/dashboard/tokens/{token.pk}/revoke/")

    # Then it no longer works
    assert store_api(store.tenant.slug, raw).get("/api/v1/products").status_code == 401


def test_staff_cannot_see_or_use_the_tokens_page_and_visitors_are_sent_to_sign_in(store):
    # Given a staff member signed in
    staff_seats(1)
    helper = staff_member(store)
    staff = signed_in(store, helper.email)
    owners_token = in_schema(store, lambda: ApiToken.objects.get())

    # When they open the page, create a token or revoke the owner's
    answers = [
        staff.get("/dashboard/tokens/"),
        staff.post("/dashboard/tokens/"),
        staff.post(f"/dashboard/tokens/{owners_token.pk}/revoke/"),
    ]

    # Then each is a 403 that says why, no token was made and the owner's still works
    for answer in answers:
        assert answer.status_code == 403 and OWNER_ONLY in html(answer)
        assert not RAW_TOKEN.search(html(answer))
    assert in_schema(store, lambda: list(ApiToken.objects.values_list("pk", flat=True))) == [owners_token.pk]
    assert store_api(store.tenant.slug, store.token).get("/api/v1/products").status_code == 200

    # And a visitor is sent to the store's login
    visitor = browser(store).get("/dashboard/tokens/")
    assert visitor.status_code == 302 and visitor["Location"] == "/admin/login/?next=/dashboard/tokens/"
