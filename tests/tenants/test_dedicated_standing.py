"""A dedicated store's stack enforces the platform's word on the store by itself (on AWS the platform is not
in front of it): it asks `POST /api/v1/dedicated/standing` with its publishing token (the token names the
store), keeps the answer 30 s, and closes the store as the platform closes a shared one; its probes always
answer. With the control plane away it keeps the last standing, and with none it keeps serving. Its plan's
limits come from the standing too (the stack's own billing tables are empty).

The stack is simulated in this process: a store with a schema, its registry row dedicated and active (as
`register_dedicated_store` writes it on a stack), served with TENANCY_MODE=dedicated, its control plane a
local HTTP server answering what the test gives it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from billing.models import Plan, Subscription
from billing.services import start_subscription
from onboarding.services import SignupResult
from storefront.catalog.models import Product
from storefront.marketplace.services import issue_publishing_token
from tenants import lifecycle, routing, standing
from tenants.db_backend import connection
from tenants.models import Tenant
from tests.conftest import ROOT_HOST, store_api, store_host

pytestmark = pytest.mark.django_db

STANDING = "/api/v1/dedicated/standing"
STACK_TOKEN = "lbp_the-stacks-own-token"
BY = lifecycle.Actor.system("test")
UNLIMITED = {"products": None, "staff_seats": None, "custom_domains": None}


def ask(token: str | None) -> Any:
    client = APIClient(HTTP_HOST=ROOT_HOST)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post(STANDING, {"store": "pottery"}, format="json")


def standing_answer(
    status: str = "active", reason: str = "", limits: Mapping[str, int | None] | None = None
) -> dict[str, Any]:
    """A standing as the control plane answers it (pinned to the endpoint's answers below)."""
    plan = {"code": "dedicated", "name": "Dedicated", "limits": {**UNLIMITED, **(limits or {})}}
    return {"status": status, "suspension_reason": reason, "plan": plan}


def live_dedicated_store(make_store: Any, slug: str) -> tuple[Tenant, str]:
    """A dedicated store gone live on the platform (Dedicated plan), and its stack's publishing token."""
    tenant = make_store(subdomain=slug, email=f"{slug}@example.com", tenancy="dedicated").tenant
    start_subscription(tenant, Plan.objects.get(code="dedicated"))
    lifecycle.change_status(tenant, Tenant.Status.PROVISIONING, by=BY)
    lifecycle.change_status(tenant, Tenant.Status.ACTIVE, by=BY)
    return tenant, issue_publishing_token(tenant)


# --- The control plane's endpoint ------------------------------------------------------------------------


def test_a_stacks_token_reads_its_own_stores_standing_and_never_another_stores(
    make_store: Any, staff_api: APIClient
) -> None:
    # Given two live dedicated stores on a Dedicated plan with limits, the kiln suspended by staff
    Plan.objects.filter(code="dedicated").update(max_products=500, staff_seats=10)
    kiln, kilns_token = live_dedicated_store(make_store, "kiln")
    _, potterys_token = live_dedicated_store(make_store, "pottery")
    suspended = staff_api.post("/api/v1/staff/tenants/kiln/suspend", {"reason": "Unpaid invoice"}, format="json")
    assert suspended.status_code == 200

    # When each store's stack asks, the kiln's naming the pottery in the body
    kilns, potterys = ask(kilns_token), ask(potterys_token)

    # Then each gets its own standing, with its plan's limits
    limits = {"products": 500, "staff_seats": 10}
    assert kilns.status_code == 200, kilns.content
    assert kilns.json() == standing_answer("suspended", "Unpaid invoice", limits)
    assert potterys.json() == standing_answer("active", "", limits)

    # ...and a reopened store's is open again at once
    staff_api.post("/api/v1/staff/tenants/kiln/reactivate")
    assert ask(kilns_token).json() == standing_answer("active", "", limits)


def test_a_store_taken_down_or_refused_answers_its_status(make_store: Any) -> None:
    # Given a live store being taken down, then taken down, and a refused one (never billed: no plan)
    kiln, kilns_token = live_dedicated_store(make_store, "kiln")
    refused = make_store(subdomain="pottery", email="pottery@example.com", tenancy="dedicated").tenant
    lifecycle.change_status(refused, Tenant.Status.REJECTED, by=BY)
    lifecycle.change_status(kiln, Tenant.Status.DEPROVISIONING, by=BY)

    # When their stacks ask
    deprovisioning = ask(kilns_token).json()
    lifecycle.change_status(kiln, Tenant.Status.DEPROVISIONED, by=BY)
    deprovisioned = ask(kilns_token).json()
    rejected = ask(issue_publishing_token(refused)).json()

    # Then each hears its status
    assert deprovisioning == standing_answer("deprovisioning")
    assert deprovisioned == standing_answer("deprovisioned")
    assert rejected == {"status": "rejected", "suspension_reason": "", "plan": None}


def test_only_a_dedicated_stores_publishing_token_reads_a_standing(make_store: Any) -> None:
    _, kilns_token = live_dedicated_store(make_store, "kiln")
    shared = make_store(subdomain="bakery", email="baker@example.com")

    # No token, an unknown one, a store owner's API token: 401
    for token in (None, "lbp_not-a-token", shared.token):
        response = ask(token)
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer"), token
    # A shared store's publishing token: 403, the platform serves that store and enforces its standing itself
    refused = ask(issue_publishing_token(shared.tenant))
    assert refused.status_code == 403 and refused.json()["code"] == "not_a_dedicated_store"
    assert ask(kilns_token).status_code == 200


def test_the_endpoint_is_in_the_root_hosts_openapi_schema(root_api: APIClient) -> None:
    operation = root_api.get("/api/schema/?format=json").json()["paths"][STANDING]["post"]

    assert {"200", "403"} <= set(operation["responses"]) and operation["tags"] == ["billing"]


# --- A stack ---------------------------------------------------------------------------------------------


class ControlPlane:
    """The control plane as the stack reaches it: answers `answer` (a standing, or raw bytes) to the
    standing's path, counting the requests and the tokens they carried; `cut` closes its port."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] | bytes = standing_answer()
        self.tokens: list[str] = []
        plane = self

        class Answer(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                plane.tokens.append(self.headers.get("Authorization", ""))
                answer = plane.answer
                body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(200 if self.path == STANDING else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def asked(self) -> int:
        return len(self.tokens)

    def cut(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


@pytest.fixture
def control_plane() -> Iterator[ControlPlane]:
    plane = ControlPlane()
    yield plane
    plane.cut()


@pytest.fixture
def stack(make_store: Any, settings: Any, control_plane: ControlPlane) -> SignupResult:
    """The kiln's stack: its registry row dedicated and active, its billing tables empty, single-tenant mode."""
    store = make_store(subdomain="kiln", email="kiln@example.com")
    Tenant.objects.filter(pk=store.tenant.pk).update(tenancy=Tenant.Tenancy.DEDICATED)
    Subscription.objects.filter(tenant_id=store.tenant.pk).delete()
    routing.forget_tenant_routes(store.tenant)
    settings.TENANCY_MODE = "dedicated"
    settings.MARKETPLACE_API_URL = control_plane.url
    settings.MARKETPLACE_PUBLISHING_TOKEN = STACK_TOKEN
    return store


def page() -> Any:
    return Client(HTTP_HOST=store_host("kiln")).get("/")


def expire_fresh_standing() -> None:
    """What 30 s would do: the fresh standing is gone, the last copy kept."""
    assert cache.delete(standing.FRESH_KEY)


@pytest.mark.parametrize(
    ("status", "reason", "code", "said"),
    [
        ("suspended", "Unpaid invoice", "tenant_suspended", b"temporarily closed: Unpaid invoice"),
        ("deprovisioning", "", "tenant_closed", b"This store is closed."),
    ],
)
def test_a_store_closed_on_the_platform_is_closed_on_its_own_stack_but_its_probes_answer(
    stack: SignupResult, control_plane: ControlPlane, status: str, reason: str, code: str, said: bytes
) -> None:
    # Given the platform closed the store
    control_plane.answer = standing_answer(status, reason)

    # When buyers open its pages and its owner its API, on the stack, and the platform's probes check it
    shop, api = page(), store_api("kiln", stack.token).get("/api/v1/products")
    live, ready = Client(HTTP_HOST=store_host("kiln")).get("/healthz"), Client().get("/readyz")

    # Then it is closed as the platform closes a shared store, asked once, with the stack's own token
    assert shop.status_code == 503 and said in shop.content
    assert api.status_code == 403 and api.json()["code"] == code
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert "checks" in ready.json()
    assert control_plane.tokens == [f"Bearer {STACK_TOKEN}"]


def test_a_store_reopened_on_the_platform_reopens_on_its_stack_within_the_cache_time(
    stack: SignupResult, control_plane: ControlPlane
) -> None:
    # Given a stack that saw its store suspended
    control_plane.answer = standing_answer("suspended", "Unpaid invoice")
    assert page().status_code == 503

    # When the platform reopens it: within 30 s the stack does not ask again
    control_plane.answer = standing_answer()
    assert page().status_code == 503 and control_plane.asked == 1

    # Then once the standing is no longer fresh, the store is open on its stack
    expire_fresh_standing()
    assert page().status_code == 200
    assert store_api("kiln", stack.token).get("/api/v1/products").status_code == 200
    assert control_plane.asked == 2


@pytest.mark.parametrize("outage", ["down", "garbage"])
def test_a_stack_whose_control_plane_is_away_keeps_the_last_standing(
    stack: SignupResult, control_plane: ControlPlane, caplog: Any, outage: str
) -> None:
    # Given a stack that saw its store suspended
    control_plane.answer = standing_answer("suspended", "Unpaid invoice")
    assert page().status_code == 503

    # When the control plane goes down (or answers what is not a standing) after the fresh copy expired
    if outage == "down":
        control_plane.cut()
    else:
        control_plane.answer = b'{"status": "sleeping", "plan": "gold"}'
    expire_fresh_standing()
    with caplog.at_level(logging.WARNING, logger="tenants.standing"):
        answers = [page(), page()]

    # Then the last standing stands (the store stays closed), said once in the log, never a 500
    assert [answer.status_code for answer in answers] == [503, 503]
    assert b"Unpaid invoice" in answers[1].content
    assert [record.message for record in caplog.records if "last copy stands" in record.message] != []
    assert control_plane.asked == (1 if outage == "down" else 2)  # one ask for both requests


def test_a_stack_that_never_reached_its_control_plane_keeps_serving(
    stack: SignupResult, control_plane: ControlPlane, caplog: Any
) -> None:
    # Given a stack whose control plane answers garbage from the start
    control_plane.answer = b"<html>502 Bad Gateway</html>"

    # When buyers and the owner use the store
    with caplog.at_level(logging.WARNING, logger="tenants.standing"):
        shop, api = page(), store_api("kiln", stack.token).get("/api/v1/products")

    # Then it serves what it has, asking once, and says so in the log
    assert shop.status_code == 200 and api.status_code == 200
    assert control_plane.asked == 1
    assert any("no copy kept, the store keeps serving" in record.message for record in caplog.records)


def test_a_plan_limit_in_the_standing_stops_product_creation_on_the_stack(
    stack: SignupResult, control_plane: ControlPlane
) -> None:
    # Given the platform's plan for the store allows one product
    control_plane.answer = standing_answer(limits={"products": 1})
    api = store_api("kiln", stack.token)
    jam = {"title": "Damson jam", "price": 450, "stock": 3, "status": "active"}

    # When the owner adds two on the stack
    first = api.post("/api/v1/products", {**jam, "sku": "JAM-1"}, format="json")
    second = api.post("/api/v1/products", {**jam, "sku": "JAM-2"}, format="json")

    # Then the second is refused with the plan's limit, and not made
    assert first.status_code == 201, first.content
    assert second.status_code == 402, second.content
    assert (second.json()["code"], second.json()["limit"]) == ("plan_limit_reached", 1)
    assert "Your Dedicated plan includes up to 1 products" in second.json()["detail"]
    connection.set_tenant(Tenant.objects.get(slug="kiln"))
    assert list(Product.objects.values_list("sku", flat=True)) == ["JAM-1"]
