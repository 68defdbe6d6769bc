"""The real-browser harness: Debian's Chromium through Playwright, on a portal served by a real
``integrator serve`` process over a real sandbox. Every test here is marked ``browser`` and
skipped, with the reason, when Chromium or Playwright is missing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.chromium import chromium, new_context, unavailable
from tests.browser.serving import ServedPortal, served_portal

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests ``browser``; skip them when the browser cannot be driven
    (fail instead where ``INTEGRATOR_BROWSER_REQUIRED`` is set, as ``.ci/run`` does)."""
    reason = None
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            reason = reason or unavailable()
            if reason and os.environ.get("INTEGRATOR_BROWSER_REQUIRED"):
                # .ci/run installs Chromium: there, a browser test that cannot run is a failure
                raise pytest.UsageError(f"the browser tests must run here, but {reason}")
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (each test gets its own context)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context (no cookies), 1366×768, 15 s timeouts."""
    context = new_context(browser)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def portal_server(workspace: Path) -> Iterator[ServedPortal]:
    """``integrator serve`` (sign-in on, password set through ``--set-password`` on stdin) on
    the golden workspace and its sandbox; yields its URL and password."""
    with served_portal(workspace) as served:
        yield served
