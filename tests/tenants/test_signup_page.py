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


def test_signing_up_redirects_to_a_one_time_login_on_the_new_store():
    browser = Client(HTTP_HOST="localhost")

    response = browser.post("/signup/", open_form(browser))

    assert response.status_code == 302
    assert response["Location"].startswith("http://hebden-bakery.localhost/accounts/handoff/?token=")
    handoff = Client(HTTP_HOST="hebden-bakery.localhost")
    landed = handoff.get(response["Location"].split("localhost", 1)[1])
    assert landed["Location"] == "/admin/"
    assert handoff.get("/admin/").status_code == 200


def test_a_double_submitted_form_creates_one_store_and_says_so():
    browser = Client(HTTP_HOST="localhost")
    form = open_form(browser)
    assert browser.post("/signup/", form).status_code == 302
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
    assert browser.post("/signup/", form | {"subdomain": "hebden-bakery", "form_token": retry}).status_code == 302
