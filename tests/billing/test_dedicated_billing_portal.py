"""A dedicated store's billing portal shows the control plane's billing of it: its stack has no billing of its
own, so it asks `POST /api/v1/dedicated/billing-summary` (and `/invoice-pdf`) on the root host with its
publishing token, which alone names the store (billing.dedicated_api), keeps the answer 30 s, and shows the
last copy "as of" its time while the control plane is down (503 without one). Changes are the platform's."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from billing import control_plane, selectors
from billing.models import Invoice, Plan, Subscription
from billing.services import close_billing_period, record_usage, start_subscription
from provisioning import execution
from provisioning.models import ProvisioningRun
from storefront.catalog.templatetags.money import money
from storefront.marketplace.services import issue_publishing_token
from tenants.models import Tenant
from tests.billing.conftest import period_ended
from tests.conftest import ROOT_HOST, STRONG_PASSWORD, store_api, store_host
from tests.provisioning.conftest import dedicated_prefix, no_queue
from tests.provisioning.dedicated_stack import serving

__all__ = ["dedicated_prefix", "no_queue"]

SUMMARY = "/api/v1/dedicated/billing-summary"
PDF = "/api/v1/dedicated/invoice-pdf"
OWNER = "potter@example.com"


def ask(token: str | None, path: str = SUMMARY, body: dict[str, Any] | None = None) -> Any:
    client = APIClient(HTTP_HOST=ROOT_HOST)
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post(path, body or {}, format="json")


@dataclass(frozen=True)
class BilledStore:
    tenant: Tenant
    publishing_token: str
    owner_token: str | None


def billed_dedicated_store(make_store: Any, slug: str) -> BilledStore:
    """A dedicated store on the Dedicated plan (as its stack going live starts it), with its stack's token."""
    store = make_store(subdomain=slug, email=f"{slug}@example.com", tenancy="dedicated")
    start_subscription(store.tenant, Plan.objects.get(code="dedicated"))
    return BilledStore(store.tenant, issue_publishing_token(store.tenant), store.token)


# --- The control plane's endpoints -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_stacks_token_reads_its_own_stores_billing_and_never_another_stores(
    make_store: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given two dedicated stores billed by the platform: the kiln with usage and an invoice, the pottery less
    kiln, pottery = billed_dedicated_store(make_store, "kiln"), billed_dedicated_store(make_store, "pottery")
    subscription, at = period_ended(kiln.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)
    assert invoice is not None
    record_usage(kiln.tenant.pk, "gmv", 200_000, idempotency_key="order-1-gmv")
    record_usage(kiln.tenant.pk, "orders", 5, idempotency_key="order-1")
    record_usage(pottery.tenant.pk, "orders", 7, idempotency_key="order-1")

    # When each store's stack asks, the kiln's naming the pottery in the body
    kilns = ask(kiln.publishing_token, body={"store": "pottery"})
    potterys = ask(pottery.publishing_token)

    # Then each gets its own billing, as the shared portal computes it
    assert kilns.status_code == 200, kilns.content
    body = kilns.json()
    assert body["store"] == "kiln"
    assert body["plan"] == {
        "code": "dedicated",
        "name": "Dedicated",
        "currency": "GBP",
        "interval": "month",
        "price": 150_000,
    }
    subscription.refresh_from_db()
    assert body["subscription"]["status"] == "active"
    assert body["subscription"]["current_period_end"] == subscription.current_period_end.isoformat().replace(
        "+00:00", "Z"
    )
    usage = {row["metric"]: row for row in body["usage"]["metrics"]}
    assert (usage["orders"]["quantity"], usage["gmv"]["quantity"], usage["gmv"]["amount"]) == (5, 200_000, 1_000)
    assert body["usage"]["total"] == selectors.projected_invoice(kiln.tenant).invoice.total  # type: ignore[union-attr]
    assert sum(body["daily_usage"]["orders"].values()) == 5
    assert [(row["number"], row["status"], row["total"], row["has_pdf"]) for row in body["invoices"]] == [
        (invoice.number, "paid", invoice.total, True)
    ]
    assert body["invoice_count"] == 1
    theirs = potterys.json()
    assert theirs["store"] == "pottery" and theirs["invoices"] == [] and theirs["invoice_count"] == 0
    assert {row["metric"]: row["quantity"] for row in theirs["usage"]["metrics"]}["orders"] == 7


@pytest.mark.django_db
def test_a_stack_fetches_its_own_invoices_pdfs_only(make_store: Any, django_capture_on_commit_callbacks: Any) -> None:
    kiln, pottery = billed_dedicated_store(make_store, "kiln"), billed_dedicated_store(make_store, "pottery")
    subscription, at = period_ended(kiln.tenant)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = close_billing_period(subscription, at)
    assert invoice is not None

    own = ask(kiln.publishing_token, PDF, {"number": invoice.number})
    others = ask(pottery.publishing_token, PDF, {"number": invoice.number})

    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    assert b"".join(own.streaming_content if own.streaming else [own.content]).startswith(b"%PDF")
    assert others.status_code == 404


@pytest.mark.django_db
def test_only_a_dedicated_stores_publishing_token_reads_billing(make_store: Any, bakery: Any) -> None:
    kiln = billed_dedicated_store(make_store, "kiln")
    shared = issue_publishing_token(bakery.tenant)

    for path in (SUMMARY, PDF):
        # No token, an unknown one, a store owner's API token: 401 (no publishing token)
        for token in (None, "lbp_not-a-token", kiln.owner_token):
            response = ask(token, path, {"number": "LB-2025-000001"})
            assert (response.status_code, response["WWW-Authenticate"]) == (401, "Bearer"), (path, token)
        # A shared store's publishing token: 403, its billing is on its own portal
        refused = ask(shared, path, {"number": "LB-2025-000001"})
        assert refused.status_code == 403 and refused.json()["code"] == "not_a_dedicated_store", path


@pytest.mark.django_db
def test_a_dedicated_store_not_billed_yet_has_no_subscription(make_store: Any) -> None:
    store = make_store(subdomain="kiln", tenancy="dedicated")  # its stack has not gone live

    response = ask(issue_publishing_token(store.tenant))

    assert response.status_code == 404 and response.json()["code"] == "no_subscription"


@pytest.mark.django_db
def test_the_endpoints_are_in_the_root_hosts_openapi_schema(root_api: Any) -> None:
    paths = root_api.get("/api/schema/?format=json").json()["paths"]

    assert {"200", "403", "404"} <= set(paths[SUMMARY]["post"]["responses"])
    assert paths[PDF]["post"]["tags"] == ["billing"]


# --- A live stack's portal ---------------------------------------------------------------------------


class ControlPlaneLink:
    """The control plane as the stack reaches it: a forwarder to the live platform that counts the stack's
    summary requests and can be cut (the port then refuses connections, as a platform that is down)."""

    def __init__(self, platform: str) -> None:
        self.summary_requests = 0
        link = self

        class Forward(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                if self.path == SUMMARY:
                    link.summary_requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name: self.headers[name] for name in ("Authorization", "Content-Type") if self.headers[name]}
                request = urllib.request.Request(platform + self.path, data=body, headers=headers)  # noqa: S310
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                        status, kind, payload = answer.status, answer.headers["Content-Type"], answer.read()
                except urllib.error.HTTPError as error:
                    status, kind, payload = error.code, error.headers["Content-Type"], error.read()
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/octet-stream")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def cut(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def control_plane_link(live_server: Any, monkeypatch: Any) -> Iterator[ControlPlaneLink]:
    link = ControlPlaneLink(f"http://{ROOT_HOST}:{live_server.url.rsplit(':', 1)[1]}")
    monkeypatch.setenv("MARKETPLACE_API_URL", link.url)  # what serve_dedicated hands its stack
    yield link
    link.cut()


def logged_in_owner() -> Client:
    """The owner in the stack's admin, through the platform's front proxy (the stack checks CSRF)."""
    browser = Client(HTTP_HOST=store_host("pottery"))
    form = browser.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert form.status_code == 200 and token, form.content[:500]
    login = browser.post(
        "/admin/login/?next=/admin/",
        {"username": OWNER, "password": STRONG_PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert login.status_code == 302, login.content[:500]
    return browser


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def forget_stack_cache(which: str) -> None:
    """Drop the stack's `which` billing entry from the shared Redis (as its expiry would)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = client.keys(f"*{which}*")
    assert keys, which
    client.delete(*keys)


@pytest.mark.slow
@pytest.mark.usefixtures("committed_tenancy", "no_queue")
def test_a_stacks_billing_page_shows_the_control_planes_billing_and_its_last_copy_when_it_is_down(
    staff_api: Any, make_store: Any, control_plane_link: ControlPlaneLink, tmp_path: Path
) -> None:
    # Given a live dedicated store, billed by the platform on the Dedicated plan: usage and a paid invoice
    make_store(subdomain="pottery", store_name="Calder Pottery", email=OWNER, tenancy="dedicated")
    run_id = staff_api.post("/api/v1/staff/tenants/pottery/approve").json()["id"]
    assert execution.execute_run(run_id) == "succeeded", ProvisioningRun.objects.get(pk=run_id).error
    tenant = Tenant.objects.get(slug="pottery")
    invoice = close_billing_period(*period_ended(tenant))
    assert invoice is not None
    record_usage(tenant.pk, "gmv", 200_000, idempotency_key="order-1-gmv", occurred_at=timezone.now())
    record_usage(tenant.pk, "orders", 5, idempotency_key="order-1", occurred_at=timezone.now())
    projected = selectors.projected_invoice(tenant)
    assert projected is not None
    invoice = Invoice.objects.get(pk=invoice.pk)

    with serving("pottery", tmp_path):
        # When its owner opens the billing page on the store's host, and the API, within 30 s
        owner = logged_in_owner()
        page = owner.get("/admin/billing/")
        pdf = owner.get(f"/admin/billing/invoices/{invoice.number}.pdf")
        api = store_api("pottery")
        login = api.post("/api/v1/auth/token", {"email": OWNER, "password": STRONG_PASSWORD}, format="json")
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}")
        subscription = api.get("/api/v1/billing/subscription")
        invoices = api.get("/api/v1/billing/invoices")
        change = api.post("/api/v1/billing/change-plan", {"plan": "scale"}, format="json")
        cancel = owner.post("/admin/billing/cancel", {"csrfmiddlewaretoken": owner.cookies["csrftoken"].value})

        # Then it shows the platform's plan, usage, projected bill and invoices, asked once
        assert page.status_code == 200, body_of(page)[:2000]
        html = body_of(page).decode()
        assert 'id="plan-name">Dedicated<' in html
        assert 'id="subscription-status">Active<' in html
        assert 'id="usage-orders"><td>orders</td><td class="amount">5</td>' in html
        assert f'id="projected-total">{money(projected.invoice.total, "GBP")}<' in html
        assert invoice.number in html and f'href="/admin/billing/invoices/{invoice.number}.pdf"' in html
        assert 'id="managed-on-platform"' in html and 'id="cancel"' not in html and 'id="billing-as-of"' not in html
        assert pdf.status_code == 200 and body_of(pdf).startswith(b"%PDF")
        assert subscription.status_code == 200 and subscription.json()["plan"] == "dedicated"
        assert "Billing-As-Of" in subscription
        assert [row["number"] for row in invoices.json()["results"]] == [invoice.number]
        assert invoices.json()["results"][0]["pdf_url"] == f"/api/v1/billing/invoices/{invoice.number}/pdf"
        assert control_plane_link.summary_requests == 1  # the stack's copy, fresh for 30 s
        # ...and changes are the platform's: refused on the stack, nothing changed there
        assert change.status_code == 409 and change.json()["code"] == "managed_by_platform"
        assert (cancel.status_code, cancel["Location"]) == (302, "/admin/billing/")
        assert Subscription.objects.get(tenant=tenant).plan.code == "dedicated"
        assert not Subscription.objects.get(tenant=tenant).cancel_at_period_end

        # When the control plane goes down and the fresh copy has expired
        control_plane_link.cut()
        forget_stack_cache(control_plane.FRESH_KEY)
        stale = owner.get("/admin/billing/")
        stale_api = api.get("/api/v1/billing/usage")

        # Then the page shows the last copy, as of when it was fetched
        assert stale.status_code == 200, body_of(stale)[:2000]
        html = body_of(stale).decode()
        assert 'id="billing-as-of"' in html and "cannot be reached" in html
        assert 'id="plan-name">Dedicated<' in html and invoice.number in html
        assert stale_api.status_code == 200 and stale_api.json()["total"] == projected.invoice.total

        # When no copy is left either
        forget_stack_cache(control_plane.COPY_KEY)
        gone = owner.get("/admin/billing/")
        gone_api = api.get("/api/v1/billing/subscription")
        gone_pdf = owner.get(f"/admin/billing/invoices/{invoice.number}.pdf")

        # Then billing is unavailable, said plainly: 503, never a 500
        assert gone.status_code == 503
        assert b"Billing is unavailable right now" in body_of(gone)
        assert gone_api.status_code == 503 and gone_api.json()["code"] == "billing_unavailable"
        assert gone_pdf.status_code == 503
