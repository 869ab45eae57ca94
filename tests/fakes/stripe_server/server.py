"""The fake Stripe's HTTP side: Stripe's routes, form-encoded requests, JSON answers, bearer auth,
``Idempotency-Key`` replays, injected failures and held answers; served from a thread on a free port."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.stripe_server.billing import BillingOps
from tests.fakes.stripe_server.connect import ACCOUNT
from tests.fakes.stripe_server.elements import ElementsOps
from tests.fakes.stripe_server.forms import parse_form
from tests.fakes.stripe_server.state import StripeError

_ID = r"([A-Za-z0-9_]+)"
HOLD_SECONDS = 60.0
ROUTES: list[tuple[str, str, str]] = [
    ("POST", r"/v1/products", "create_product"),
    ("GET", r"/v1/products", "list_products"),
    ("GET", rf"/v1/products/{_ID}", "get_product"),
    ("POST", rf"/v1/products/{_ID}", "update_product"),
    ("POST", r"/v1/prices", "create_price"),
    ("GET", r"/v1/prices", "list_prices"),
    ("GET", rf"/v1/prices/{_ID}", "get_price"),
    ("POST", rf"/v1/prices/{_ID}", "update_price"),
    ("POST", r"/v1/customers", "create_customer"),
    ("GET", rf"/v1/customers/{_ID}", "get_customer"),
    ("POST", r"/v1/billing/meters", "create_meter"),
    ("GET", r"/v1/billing/meters", "list_meters"),
    ("GET", rf"/v1/billing/meters/{_ID}", "get_meter"),
    ("POST", r"/v1/billing/meter_events", "create_meter_event"),
    ("POST", r"/v1/checkout/sessions", "create_checkout_session"),
    ("GET", rf"/v1/checkout/sessions/{_ID}", "get_checkout_session"),
    ("GET", rf"/v1/subscriptions/{_ID}", "get_subscription"),
    ("POST", rf"/v1/subscriptions/{_ID}", "update_subscription"),
    ("DELETE", rf"/v1/subscriptions/{_ID}", "cancel_subscription"),
    ("POST", r"/v1/invoices/create_preview", "create_preview"),
    ("GET", r"/v1/invoices", "list_invoices"),
    ("GET", rf"/v1/invoices/{_ID}", "get_invoice"),
    ("POST", r"/v1/billing_portal/sessions", "create_portal_session"),
    ("GET", r"/v1/events", "list_events"),
    ("GET", rf"/v1/events/{_ID}", "get_event"),
    ("POST", r"/v1/accounts", "create_account"),
    ("GET", rf"/v1/accounts/{_ID}", "get_account"),
    ("POST", r"/v1/account_links", "create_account_link"),
    ("POST", r"/v1/payment_intents", "create_payment_intent"),
    ("GET", r"/v1/payment_intents/search", "search_payment_intents"),  # before the id's route
    ("GET", rf"/v1/payment_intents/{_ID}", "get_payment_intent"),
    ("POST", rf"/v1/payment_intents/{_ID}/cancel", "cancel_payment_intent"),
    ("GET", rf"/v1/charges/{_ID}", "get_charge"),
    ("POST", r"/v1/refunds", "create_refund"),
]
_COMPILED = [(method, re.compile(pattern + r"/?"), name) for method, pattern, name in ROUTES]


class FakeStripe(BillingOps, ElementsOps):
    """A stateful fake of the parts of Stripe's API that LocalBazaar uses.

    ``fail_next[path] = n`` makes the next n requests to ``path`` answer 500 (an outage);
    ``hold_next[path] = threading.Event()`` lets the next request to ``path`` do its work (objects made,
    its answer kept for its Idempotency-Key) and then holds the answer until the event is set: the
    moment a client dies after Stripe acted but before it heard (at most ``HOLD_SECONDS``);
    ``meter_event_requests`` counts every meter-event request, resends included.

    Idempotency-Keys are kept per account, as Stripe keeps them: the same key with the same endpoint and
    parameters answers the first request's answer again; with others, a 400 ``idempotency_error``.
    """

    api_key = "sk_test_fake"

    def __init__(self, webhook_secret: str = "whsec_fake") -> None:
        super().__init__(webhook_secret)
        self.fail_next: dict[str, int] = {}
        self.hold_next: dict[str, threading.Event] = {}
        self.meter_event_requests = 0
        self._server: ThreadingHTTPServer | None = None

    # Retrieval of objects with nothing more to them than their id.
    def get_product(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        return self.get("product", object_id)

    def get_price(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        return self.get("price", object_id)

    def get_customer(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        return self.get("customer", object_id)

    def get_meter(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        return self.get("billing.meter", object_id)

    def dispatch(
        self, method: str, path: str, params: dict[str, Any], idempotency_key: str, account: str = ""
    ) -> tuple[int, Any]:
        answer = self._dispatch(method, path, params, idempotency_key, account)
        hold = self.hold_next.pop(path, None)
        if hold is not None:
            hold.wait(HOLD_SECONDS)  # outside the lock: retries meanwhile are answered
        return answer

    def _dispatch(
        self, method: str, path: str, params: dict[str, Any], idempotency_key: str, account: str
    ) -> tuple[int, Any]:
        if account:
            params[ACCOUNT] = account
        replay_key = (account, idempotency_key)
        request = (method, path, copy.deepcopy(params))
        with self.lock:
            self.requests += 1
            if path == "/v1/billing/meter_events":
                self.meter_event_requests += 1
            if self.fail_next.get(path, 0) > 0:
                self.fail_next[path] -= 1
                return 500, StripeError(500, "Injected outage.", kind="api_error").body()
            if idempotency_key and replay_key in self.idempotent_responses:
                first_request, first_answer = self.idempotent_responses[replay_key]
                if first_request != request:
                    message = (
                        f"Keys for idempotent requests can only be used with the same parameters they were first"
                        f" used with. Try using a key other than '{idempotency_key}' if you meant to execute a"
                        " different request."
                    )
                    return 400, StripeError(400, message, kind="idempotency_error").body()
                return first_answer
            for route_method, pattern, name in _COMPILED:
                match = pattern.fullmatch(path)
                if match and route_method == method:
                    handler: Callable[..., dict[str, Any]] = getattr(self, name)
                    try:
                        answer: tuple[int, Any] = (200, handler(params, *match.groups()))
                    except StripeError as error:
                        answer = (error.status, error.body())
                    if idempotency_key and method == "POST" and answer[0] < 500:
                        # A snapshot, as Stripe replays the first answer, not the object as it is now.
                        self.idempotent_responses[replay_key] = (request, copy.deepcopy(answer))
                    return answer
            return 404, StripeError(404, f"Unrecognized request URL ({method}: {path}).").body()

    # --- serving -----------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a free port in a daemon thread; returns the base URL (for STRIPE_API_BASE)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                page = fake.answer_browser(method, url.path, body)  # Stripe.js and its confirmations
                if page is not None:
                    self._send_bytes(*page)
                    return
                if self.headers.get("Authorization", "") != f"Bearer {fake.api_key}":
                    status, payload = 401, StripeError(401, "Invalid API Key provided.", kind="invalid_request_error")
                    self._send(status, payload.body())
                    return
                params = parse_form(body if method == "POST" else url.query)
                status, answer = fake.dispatch(
                    method,
                    url.path,
                    params,
                    self.headers.get("Idempotency-Key", ""),
                    self.headers.get("Stripe-Account", ""),
                )
                self._send(status, answer)

            def _send_bytes(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload, default=str).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Request-Id", fake.new_id("req"))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client died waiting (hold_next): Stripe acted all the same

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._answer("DELETE")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- what tests and benchmarks read ------------------------------------------------------------
    def meter_totals(self) -> dict[tuple[str, str], Any]:
        """The accepted (deduplicated) value per (customer, event name)."""
        totals: dict[tuple[str, str], Any] = {}
        with self.lock:
            for event in self.table("meter_event").values():
                key = (event["_customer"], event["event_name"])
                totals[key] = totals.get(key, 0) + event["_value"]
        return totals
