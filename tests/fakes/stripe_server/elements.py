"""Stripe.js in the fake, for browser tests: `GET /v3/stripe.js` serves a stand-in for the parts a store's
payment page uses (`Stripe(key, {stripeAccount})`, `elements({clientSecret})`, the Payment Element as one
"Card number" field, `confirmPayment`), and `POST /test/confirm/<intent>` is where it confirms. There the
buyer's bank answers (`pay`: the test card 4000000000000002 is declined, as on Stripe) and the event is
delivered at once as a signed webhook to `webhook_url`, as Stripe would deliver it to the platform.

Both answer without the secret key (a page calls them) and with `Access-Control-Allow-Origin: *`, since
the page is on a store's host.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from tests.fakes.stripe_server.connect import ConnectOps
from tests.fakes.stripe_server.forms import parse_form
from tests.fakes.stripe_server.state import StripeError

DECLINED_CARD = "4000000000000002"
_CONFIRM = re.compile(r"/test/confirm/([A-Za-z0-9_]+)/?")
# No proxy from the environment: the webhook goes to a server on this machine.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

STRIPE_JS = r"""// The fake Stripe's stand-in for Stripe.js v3: only what a store's payment page uses.
(function () {
  "use strict";
  var API = "__FAKE_STRIPE_URL__";
  window.Stripe = function (publishableKey, options) {
    var account = (options || {}).stripeAccount || "";
    return {
      elements: function (elementsOptions) {
        var field = null;
        return {
          _clientSecret: (elementsOptions || {}).clientSecret || "",
          _card: function () { return field ? field.value : ""; },
          create: function (type) {
            if (type !== "payment") { throw new Error("The fake Stripe.js makes the Payment Element only."); }
            return {
              mount: function (selector) {
                var host = typeof selector === "string" ? document.querySelector(selector) : selector;
                host.innerHTML = '<label for="fake-stripe-card">Card number</label>' +
                  '<input id="fake-stripe-card" name="cardnumber" inputmode="numeric" autocomplete="cc-number">';
                field = host.querySelector("input");
              }
            };
          }
        };
      },
      confirmPayment: function (params) {
        var elements = params.elements;
        var returnUrl = (params.confirmParams || {}).return_url;
        if (!returnUrl) { throw new Error("stripe.confirmPayment(): confirmParams.return_url is required."); }
        var secret = elements._clientSecret;
        var intent = secret.split("_secret_")[0];
        var body = new URLSearchParams(
          { client_secret: secret, account: account, key: publishableKey, card: elements._card() }
        );
        return fetch(API + "/test/confirm/" + intent, { method: "POST", body: body })
          .then(function (response) { return response.json(); })
          .then(function (answer) {
            if (answer.error) { return { error: answer.error }; }
            if (params.redirect === "if_required") { return { paymentIntent: answer.payment_intent }; }
            var back = new URL(returnUrl);
            back.searchParams.set("payment_intent", intent);
            back.searchParams.set("payment_intent_client_secret", secret);
            back.searchParams.set("redirect_status", answer.payment_intent.status);
            window.location.assign(back.toString());
            return new Promise(function () {});  // the page is leaving
          });
      }
    };
  };
})();
"""


class ElementsOps(ConnectOps):
    """``webhook_url``: where a payment confirmed in the browser has its event delivered (empty: nowhere,
    the test delivers events itself); ``webhook_deliveries``: (event id, HTTP status) of each delivery."""

    publishable_key = "pk_test_fake"

    def __init__(self, webhook_secret: str = "whsec_fake") -> None:
        super().__init__(webhook_secret)
        self.webhook_url = ""
        self.webhook_deliveries: list[tuple[str, int]] = []

    def answer_browser(self, method: str, path: str, body: str) -> tuple[int, dict[str, str], bytes] | None:
        """The answer to a page's request (status, headers, body), or None for the API's routes."""
        cors = {"Access-Control-Allow-Origin": "*"}
        if method == "GET" and path == "/v3/stripe.js":
            script = STRIPE_JS.replace("__FAKE_STRIPE_URL__", self.base_url).encode()
            return 200, {**cors, "Content-Type": "application/javascript; charset=utf-8"}, script
        match = _CONFIRM.fullmatch(path)
        if method != "POST" or match is None:
            return None
        try:
            status, answer = 200, self.confirm_in_browser(match.group(1), parse_form(body))
        except StripeError as error:
            status, answer = error.status, error.body()
        return status, {**cors, "Content-Type": "application/json"}, json.dumps(answer).encode()

    def confirm_in_browser(self, intent_id: str, form: dict[str, Any]) -> dict[str, Any]:
        """Stripe.js confirming a PaymentIntent with a card: checked as Stripe checks it (the publishable
        key, the connected account the page acts for, the intent's client secret), then paid."""
        with self.lock:
            if form.get("key") != self.publishable_key:
                raise StripeError(401, "Invalid API Key provided.")
            intent = self.get("payment_intent", intent_id)
            if form.get("account") != intent["_account"] or form.get("client_secret") != intent["client_secret"]:
                raise StripeError(404, f"No such payment_intent: '{intent_id}'", code="resource_missing")
            card = "".join(str(form.get("card") or "").split())
            if not card.isdigit() or not 12 <= len(card) <= 19:
                raise StripeError(400, "Your card number is invalid.", code="invalid_number", kind="validation_error")
            event = self.pay(intent_id, succeed=card != DECLINED_CARD)
        # Delivered outside the lock: the platform reads the intent back from this server meanwhile.
        self.deliver(event)
        if event["type"] == "payment_intent.payment_failed":
            raise StripeError(402, "Your card was declined.", code="card_declined", kind="card_error")
        return {"payment_intent": {"id": intent_id, "object": "payment_intent", "status": intent["status"]}}

    def deliver(self, event: dict[str, Any]) -> None:
        """POST the event, signed, to ``webhook_url`` (once: Stripe's retries are not faked)."""
        if not self.webhook_url:
            return
        body, signature = self.signed(event)
        request = urllib.request.Request(
            self.webhook_url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        try:
            with _DIRECT.open(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except urllib.error.URLError:
            status = 0
        with self.lock:
            self.webhook_deliveries.append((event["id"], status))
