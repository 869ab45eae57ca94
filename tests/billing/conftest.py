"""Fixtures for the billing suites: platform staff in the control-plane admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tenants.accounts.models import User
from tests.conftest import ROOT_HOST, STRONG_PASSWORD


@pytest.fixture
def platform_admin_browser(db: Any) -> Client:
    """A platform superuser logged in to the control-plane admin on the root host."""
    User.objects.create_superuser("staff@localbazaar.test", STRONG_PASSWORD)
    browser = Client(HTTP_HOST=ROOT_HOST)
    assert browser.login(email="staff@localbazaar.test", password=STRONG_PASSWORD)
    return browser
