"""Fixtures of the buyer account tests: browsers on the root domain, buyers signed up and signed in there,
and the links the account mails them."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import ROOT_HOST, STRONG_PASSWORD
from tests.storefront.conftest import SchemaKeepingBrowser
from tests.storefront.orders.conftest import buyer, make_buyer

__all__ = ["buyer", "make_buyer"]  # buyers signed up over the root's API, as the selling tests make them
_addresses = count(1)


def root(**extra: Any) -> Client:
    """A browser on the root domain; each has its own cookies (and, by default, its own client address, so
    one test's many password forms never reach the sign-in throttle's allowance)."""
    extra.setdefault("REMOTE_ADDR", f"198.51.100.{next(_addresses) % 250 + 1}")
    return SchemaKeepingBrowser(HTTP_HOST=ROOT_HOST, **extra)


def html(response: Any) -> str:
    return str(response.content.decode())


def link_in(message: mail.EmailMessage, path_prefix: str) -> str:
    """The root-domain link under `path_prefix` in a mail, as a path to open (checking it is the root's)."""
    found = re.search(rf"http://{re.escape(ROOT_HOST)}(?::\d+)?({re.escape(path_prefix)}\S+/)", str(message.body))
    assert found is not None, message.body
    return found.group(1)


def sign_in(browser: Client, email: str, password: str = STRONG_PASSWORD, next_path: str = "") -> Any:
    return browser.post("/buyers/sign-in/", {"email": email, "password": password, "next": next_path})


@pytest.fixture
def mails(mailoutbox: list[mail.EmailMessage], django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """`with mails():` around a request sends the mails it leaves for after its commit (the test's own
    transaction never commits), into `mailoutbox`."""

    def capture() -> Any:
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def signed_up(mails: Callable[..., Any], mailoutbox: list[mail.EmailMessage]) -> dict[str, Any]:
    """A buyer who signed up on the web (and so is signed in on that browser), with the mail they got."""
    browser = root()
    email = f"grace{next(_addresses)}@example.com"
    with mails():
        response = browser.post("/buyers/sign-up/", {"name": "Grace", "email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 303, html(response)
    return {"browser": browser, "email": email, "mail": mailoutbox[-1]}
