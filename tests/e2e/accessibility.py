"""Accessibility checks in the browser tests: axe-core (bundled by axe-playwright-python) run on the page as
the browser shows it. WCAG 2 A and AA rules; a page with any violation fails with axe's own report."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()
RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def assert_accessible(page: Any, what: str) -> None:
    results = _axe.run(page, options=RULES)
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"
