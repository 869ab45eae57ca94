"""Store staff: owners and staff are memberships of one store, valid on that store only."""

import pytest
from django.db import connection

from tenants.accounts.models import ApiToken, Membership, User
from tenants.accounts.services import add_staff_member
from tests.conftest import STRONG_PASSWORD, store_api

pytestmark = pytest.mark.django_db


def test_a_staff_member_logs_in_to_their_store_only(make_store):
    bakery = make_store(subdomain="bakery")
    pottery = make_store(subdomain="pottery")
    connection.set_tenant(bakery.tenant)
    add_staff_member("sam@example.com", STRONG_PASSWORD)
    connection.set_schema_to_public()

    token = store_api("bakery").post("/api/v1/auth/token", {"email": "sam@example.com", "password": STRONG_PASSWORD})
    elsewhere = store_api("pottery").post(
        "/api/v1/auth/token", {"email": "sam@example.com", "password": STRONG_PASSWORD}
    )

    assert token.status_code == 200
    assert store_api("bakery", token.json()["token"]).get("/api/v1/products").status_code == 200
    assert elsewhere.status_code == 400
    connection.set_tenant(pottery.tenant)
    assert list(ApiToken.objects.values_list("user__email", flat=True)) == [pottery.owner.email]  # none for sam
    assert not User.objects.filter(email="sam@example.com").exists()
    connection.set_schema_to_public()


def test_a_store_has_exactly_one_owner_after_signup(make_store):
    bakery = make_store(subdomain="bakery", email="rosa@example.com")
    connection.set_tenant(bakery.tenant)

    owners = Membership.objects.filter(role=Membership.Role.OWNER).select_related("user")

    assert [m.user.email for m in owners] == ["rosa@example.com"]


def test_a_user_without_a_membership_gets_no_token_even_with_a_login(make_store):
    bakery = make_store(subdomain="bakery")
    connection.set_tenant(bakery.tenant)
    User.objects.create_user("lurker@example.com", STRONG_PASSWORD)
    connection.set_schema_to_public()

    response = store_api("bakery").post(
        "/api/v1/auth/token", {"email": "lurker@example.com", "password": STRONG_PASSWORD}
    )

    assert response.status_code == 400
    connection.set_tenant(bakery.tenant)
    assert list(ApiToken.objects.values_list("user__email", flat=True)) == [bakery.owner.email]
    connection.set_schema_to_public()
