"""Browser tests: Debian's Chromium, headless, driven by Playwright against a live server.

Chromium resolves every *.localhost name to the loopback address, so store hosts such as
bakery.localhost:<port> reach the same live server as the root domain.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import storages

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (CI does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def platform(live_server: Any, settings: Any, committed_tenancy: None) -> str:
    """The live server as the platform's root domain; store URLs point at its port."""
    port = live_server.url.rsplit(":", 1)[1]
    settings.PLATFORM_URL_PORT = port
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return f"http://localhost:{port}"


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Iterator[Any]:
    """Uploads and thumbnails go to a folder of the test's own (still namespaced by schema below it)."""
    storage = storages["default"]
    # django-tenants' storage caches MEDIA_ROOT on first use and misses setting changes.
    storage.__dict__.pop("relative_media_root", None)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield tmp_path / "media"
    storage.__dict__.pop("relative_media_root", None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def merchant_opens_order(browser: Any, store_url: str, email: str, password: str, number: str) -> Any:
    """The merchant, in their own browser, signs in to the store admin and opens order ``number``."""
    merchant = browser.new_context().new_page()
    merchant.set_default_timeout(15_000)
    merchant.goto(f"{store_url}/admin/login/?next=/admin/orders/order/")
    merchant.fill("input[name=username]", email)
    merchant.fill("input[name=password]", password)
    merchant.click("input[type=submit]")
    merchant.wait_for_url(re.compile(r".*/admin/orders/order/$"))
    merchant.get_by_role("link", name=number).click()
    merchant.wait_for_url(re.compile(r".*/admin/orders/order/\d+/change/$"))
    return merchant
