"""Debian's Chromium driven by Playwright, as the browser tests and the screenshot script launch
it: never a downloaded browser, headless, on a closed network, as root on CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

# Playwright must never fetch a browser of its own (a closed network, and Debian's is the one
# the project supports)
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1366, "height": 768}
#: every wait (navigation, a locator, an expectation): generous, CI machines are slow
TIMEOUT_MS = 15_000
#: root needs --no-sandbox; the rest keep Chromium off the network it has not got
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def unavailable() -> str | None:
    """Why the browser cannot be driven here (``None`` when it can)."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is absent: install Debian's Chromium (apt-get install -y chromium) "
            "to run the browser tests"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"playwright cannot be imported ({error}): install the dev extra"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """Chromium launched headless for the ``with`` block. Playwright gives each launch a fresh
    temporary profile (user-data-dir) and removes it afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser) -> BrowserContext:
    """A fresh browser context (no cookies) at 1366×768 with the generous timeouts."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return context
