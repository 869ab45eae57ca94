"""A fake Stripe server for tests and benchmarks: the real `stripe` SDK talks to it over HTTP.

Start it with ``FakeStripe().start()`` (a free port, a daemon thread) or ``python -m
tests.fakes.stripe_server`` and point STRIPE_API_BASE at the URL it prints.
"""

from tests.fakes.stripe_server.server import FakeStripe
from tests.fakes.stripe_server.state import StripeError, sign_payload

__all__ = ["FakeStripe", "StripeError", "sign_payload"]
