"""The signup form on the root domain."""

import re

import pytest
from django.test import Client

from tenants.models import PooledSchema, Tenant
from tests.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def open_form(browser: Client) -> dict[str, str]:
    page = browser.get("/signup/")
    assert page.status_code == 200
    token = re.search(rb'name="form_token" value="([^"]+)"', page.content).group(1).decode()
    return {
        "store_name": "Hebden Bakery",
        "subdomain": "hebden-bakery",
        "email": "rosa@example.com",
        "password": STRONG_PASSWORD,
        "town": "Hebden Bridge",
        "postcode": "HX7 8AD",
        "tenancy": "shared",
        "form_token": token,
    }


def handoff_form(page: bytes) -> tuple[str, str]:
    """(where the signup's handoff form posts, the token it carries)."""
    action = re.search(rb'<form id="handoff" method="post" action="([^"]+)"', page).group(1).decode()
    token = re.search(rb'name="token" value="([^"]+)"', page).group(1).decode()
    return action, token


def test_signing_up_posts_a_one_time_login_to_the_new_store_never_in_a_url():
    browser = Client(HTTP_HOST="localhost")

    response = browser.post("/signup/", open_form(browser))

    # The token is in a form the page POSTs, not in a redirect's query (access logs keep query strings).
    assert response.status_code == 200
    assert "Location" not in response
    assert response["Cache-Control"] == "no-store"
    action, token = handoff_form(response.content)
    assert action == "http://hebden-bakery.localhost/accounts/handoff/"
    assert "?" not in action
    # The browser arrives from the root host with no CSRF cookie of the store's: the token is the proof.
    handoff = Client(HTTP_HOST="hebden-bakery.localhost", enforce_csrf_checks=True)
    landed = handoff.post("/accounts/handoff/", {"token": token})
    assert landed["Location"] == "/dashboard/"
    assert handoff.get("/dashboard/").status_code == 200


def test_a_handoff_token_in_a_url_is_refused_and_logs_nobody_in():
    browser = Client(HTTP_HOST="localhost")
    _, token = handoff_form(browser.post("/signup/", open_form(browser)).content)
    store = Client(HTTP_HOST="hebden-bakery.localhost")

    old_link = store.get(f"/accounts/handoff/?token={token}")

    assert old_link.status_code == 405
    assert store.get("/admin/")["Location"].startswith("/admin/login/")
    # Refused without being spent: the POST the page makes still works, once.
    assert store.post("/accounts/handoff/", {"token": token})["Location"] == "/dashboard/"
    assert (
        Client(HTTP_HOST="hebden-bakery.localhost")
        .post("/accounts/handoff/", {"token": token})["Location"]
        .startswith("/admin/login/")
    )


def test_a_double_submitted_form_creates_one_store_and_says_so():
    browser = Client(HTTP_HOST="localhost")
    form = open_form(browser)
    assert browser.post("/signup/", form).status_code == 200
    pool_after_first = PooledSchema.objects.count()

    again = browser.post("/signup/", form)

    assert again.status_code == 400
    assert b"already submitted" in again.content
    assert Tenant.objects.count() == 1
    assert PooledSchema.objects.count() == pool_after_first


def test_a_dedicated_request_is_acknowledged_and_waits_for_staff():
    browser = Client(HTTP_HOST="localhost")
    form = open_form(browser) | {"tenancy": "dedicated"}

    response = browser.post("/signup/", form)

    assert response.status_code == 200
    assert b"Request received" in response.content
    assert Tenant.objects.get(slug="hebden-bakery").status == "pending_provisioning"


def test_field_errors_keep_the_other_answers_and_offer_a_fresh_token():
    browser = Client(HTTP_HOST="localhost")
    form = open_form(browser) | {"subdomain": "www"}

    response = browser.post("/signup/", form)

    assert response.status_code == 400
    assert b"reserved" in response.content
    assert b'value="Hebden Bakery"' in response.content
    retry = re.search(rb'name="form_token" value="([^"]+)"', response.content).group(1).decode()
    assert retry != form["form_token"]
    assert browser.post("/signup/", form | {"subdomain": "hebden-bakery", "form_token": retry}).status_code == 200
