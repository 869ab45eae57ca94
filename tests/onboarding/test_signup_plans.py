"""Signup picks its plan from the billing catalog."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Plan
from tenants.models import Tenant
from tests.onboarding.test_signup_api import leaves_no_trace, signup_body

pytestmark = pytest.mark.django_db


def test_a_signup_without_a_plan_gets_the_default_for_its_hosting(root_api):
    root_api.post("/api/v1/signup", signup_body(), format="json")
    root_api.post(
        "/api/v1/signup", signup_body(subdomain="big-deli", email="big@example.com", tenancy="dedicated"), format="json"
    )

    assert Tenant.objects.get(slug="marias-deli").plan_code == "starter"
    assert Tenant.objects.get(slug="big-deli").plan_code == "dedicated"


def test_a_signup_names_a_catalog_plan(root_api):
    response = root_api.post("/api/v1/signup", signup_body(plan="Growth"), format="json")

    assert response.status_code == 201
    assert Tenant.objects.get(slug="marias-deli").plan_code == "growth"


def test_the_catalog_is_read_with_one_query_on_a_signup(root_api):
    with CaptureQueriesContext(connection) as queries:
        response = root_api.post("/api/v1/signup", signup_body(plan="scale"), format="json")

    assert response.status_code == 201
    assert len([q for q in queries.captured_queries if '"billing_plan"' in q["sql"]]) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plan": "platinum"}, "Unknown plan 'platinum'; choose one of starter, growth, scale."),
        # A plan kept out of the public catalog is as unknown as one never made, and not offered.
        ({"plan": "hidden"}, "Unknown plan 'hidden'; choose one of starter, growth, scale."),
        ({"plan": "dedicated"}, "The Dedicated plan is for dedicated hosting; choose one of starter, growth, scale."),
        ({"plan": "growth", "tenancy": "dedicated"}, "The Growth plan is for shared hosting; choose one of dedicated."),
    ],
)
def test_a_plan_outside_the_public_catalog_or_the_hosting_is_refused(root_api, overrides, message):
    Plan.objects.create(code="hidden", name="Hidden", monthly_fee=1, yearly_fee=1, is_public=False)

    with leaves_no_trace():
        response = root_api.post("/api/v1/signup", signup_body(**overrides), format="json")

    assert response.status_code == 400
    assert response.json() == {"plan": [message]}
    assert not Tenant.objects.exists()


def test_signup_refuses_every_plan_when_the_default_is_withdrawn(root_api):
    Plan.objects.filter(code="starter").update(is_public=False)

    with leaves_no_trace():
        response = root_api.post("/api/v1/signup", signup_body(), format="json")

    assert response.status_code == 400
    assert response.json() == {"plan": ["Unknown plan 'starter'; choose one of growth, scale."]}
