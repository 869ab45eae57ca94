"""The one error billing raises for requests a customer or caller can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BillingError(Exception):
    """A billing request refused: ``message`` for people, ``code`` for programs (``unknown_plan``...)."""

    message: str
    code: str = "billing_refused"

    def __str__(self) -> str:
        return self.message
