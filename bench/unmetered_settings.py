"""The platform's settings without the API-request metering middleware: the "before" of `make bench-catalog`'s
metering comparison (the platform as it is is the "after"). Nothing else differs."""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

MIDDLEWARE = [name for name in MIDDLEWARE if name != "billing.middleware.ApiRequestMeteringMiddleware"]
