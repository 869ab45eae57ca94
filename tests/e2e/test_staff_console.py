"""In a real browser, over a fleet of 20,000 stores: platform staff find a store by a part of its owner's
email (htmx updates the list as they type), open its page and suspend it, answering the reason prompt.
A screenshot of the store's page is written to docs/screenshots/staff-console.png."""

from __future__ import annotations

import re
import time
from pathlib import Path

from bench.fleet import register_registry_fleet
from tenants.models import Tenant, TenantStateChange
from tests.conftest import STAFF_EMAIL, STRONG_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FLEET = 20_000


def test_staff_find_a_store_among_20000_by_its_owners_email_and_suspend_it(platform, page, make_store, staff_user):
    # Given 20,000 stores in the registry and one real store, signed up by its owner
    started = time.monotonic()
    register_registry_fleet(FLEET)
    make_store(
        subdomain="harbour-pots", store_name="Harbour Pottery", email="mara.quinn@harbourpots.example", town="Whitby"
    )
    assert Tenant.objects.count() == FLEET + 1
    page.goto(f"{platform}/admin/login/?next=/console/")
    page.fill("input[name=username]", STAFF_EMAIL)
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/console/$"))
    assert page.locator("#tenant-results tbody tr").count() == 50  # a page of the fleet, newest first
    assert page.locator("#next-page").is_visible()

    # When staff type a part of the owner's email: the results follow as they type (htmx), the URL too
    page.locator("#tenant-search").press_sequentially("QUINN@harbour", delay=40)
    page.wait_for_function("document.querySelectorAll('#tenant-results tbody tr').length === 1")
    row = page.locator("#tenant-harbour-pots")
    assert "mara.quinn@harbourpots.example" in row.inner_text() and "Active" in row.inner_text()
    assert "q=QUINN%40harbour" in page.url
    assert page.locator("#next-page").count() == 0

    # ...and open the store's page
    row.get_by_role("link", name="Harbour Pottery").click()
    page.wait_for_url(re.compile(r".*/console/tenants/harbour-pots/$"))
    assert page.locator("#tenant-status").inner_text() == "Active"
    assert "Starter" in page.locator("#panel-billing").inner_text()

    # When they suspend it, giving the reason the prompt asks for
    prompts: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        prompts.append(dialog.message)
        dialog.accept("Unpaid invoices since March")

    page.once("dialog", answer)
    page.get_by_role("button", name="Suspend").click()

    # Then the page comes back with the store suspended, the reason, and the change in its history
    page.wait_for_selector("#tenant-status.status-suspended")
    assert prompts == ["Reason for suspending Harbour Pottery?"]
    assert page.locator("#tenant-status").inner_text() == "Suspended: Unpaid invoices since March"
    assert "Harbour Pottery is now suspended." in page.locator("#messages").inner_text()
    assert "Unpaid invoices since March" in page.locator("#tenant-history").inner_text()
    assert page.get_by_role("button", name="Reactivate").is_visible()
    tenant = Tenant.objects.get(slug="harbour-pots")
    assert tenant.status == "suspended" and tenant.suspension_reason == "Unpaid invoices since March"
    assert TenantStateChange.objects.filter(tenant=tenant, actor=f"user:{STAFF_EMAIL}").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "staff-console.png"), full_page=True)
    assert time.monotonic() - started < 60
