"""``python -m tests.fakes.stripe_server [--port N] [--webhook-secret S]``: serve until interrupted."""

from __future__ import annotations

import argparse
import threading

from tests.fakes.stripe_server.server import FakeStripe

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=0, help="0: a free port")
parser.add_argument("--webhook-secret", default="whsec_fake")
args = parser.parse_args()
fake = FakeStripe(args.webhook_secret)
print(f"STRIPE_API_BASE={fake.start(args.host, args.port)} STRIPE_SECRET_KEY={fake.api_key}", flush=True)
threading.Event().wait()
