"""A dedicated stack shares the platform's Redis (make dev, the local backend) and keeps its store in
`public`, like the platform's root host: nothing it caches may be read as the platform's, even with
CACHE_KEY_PREFIX empty, and it runs as a database role of its own."""

from __future__ import annotations

import json
import urllib.request

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from provisioning import execution
from provisioning.models import ProvisioningRun
from tenants.accounts.services import token_digest
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, STRONG_PASSWORD
from tests.provisioning.conftest import server_connection
from tests.provisioning.dedicated_stack import serving

pytestmark = [pytest.mark.usefixtures("committed_tenancy"), pytest.mark.slow]


def call_stack(upstream: str, path: str, *, token: str = "", body: dict | None = None) -> tuple[int, dict]:
    """An HTTP request straight to the stack's own server, for the store's hostname."""
    headers = {"Host": "pottery.localhost", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{upstream}{path}", data=data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_a_token_check_cached_by_a_dedicated_stack_never_authenticates_on_the_platforms_root_host(
    staff_api, make_store, no_queue, tmp_path, monkeypatch
):
    # Given a live dedicated store whose stack shares the platform's Redis with CACHE_KEY_PREFIX empty
    monkeypatch.setenv("CACHE_KEY_PREFIX", "")
    make_store(subdomain="pottery", store_name="Calder Pottery", email="potter@example.com", tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
    database = Tenant.objects.get(slug="pottery").database_name
    with serving("pottery", tmp_path) as upstream:
        # When its owner (is_staff in the stack's own database) logs in there and uses the token, so the
        # stack caches the good token check in `public`
        status, login = call_stack(
            upstream, "/api/v1/auth/token", body={"email": "potter@example.com", "password": STRONG_PASSWORD}
        )
        assert status == 200
        token = login["token"]
        assert call_stack(upstream, "/api/v1/products", token=token)[0] == 200
        cached = redis.Redis.from_url(settings.REDIS_URL).keys(f"*cached:public:accounts:{token_digest(token)}")
        assert cached, "the stack cached its token check in the shared Redis"

        # And the token is tried on the platform's root host, whose staff API answers its staff
        assert staff_api.get("/api/v1/staff/tenants").status_code == 200
        answer = APIClient(HTTP_HOST=ROOT_HOST).get("/api/v1/staff/tenants", HTTP_AUTHORIZATION=f"Bearer {token}")

    # Then the platform does not know that token at all
    assert answer.status_code == 401, answer.content
    # And the stack ran as its own role, owner of its database, not the platform's superuser
    conn = server_connection()
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT r.rolname, r.rolsuper FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                "WHERE d.datname = %s",
                [database],
            )
            assert cursor.fetchone() == (database, False)
    finally:
        conn.close()
