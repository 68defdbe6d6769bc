"""Signing in and out in a real browser (Debian's Chromium) on a real ``integrator serve``:
the sign-in page, a wrong password, the session cookie, the way back to the page asked for,
and the keyboard alone."""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.browser.serving import ServedPortal

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _sign_in(page: Page, password: str) -> None:
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _path(page: Page) -> str:
    parts = urlsplit(page.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_signing_in_and_out_through_the_page(page: Page, portal_server: ServedPortal) -> None:
    from playwright.sync_api import expect

    page.goto(portal_server.url + "/")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2F$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _sign_in(page, portal_server.password)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert _path(page) == "/"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _path(page) == "/signin"
    # signed out for real: the portal asks again
    page.goto(portal_server.url + "/projects")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fprojects$"))
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_wrong_password_says_so_and_signs_nobody_in(
    page: Page, portal_server: ServedPortal
) -> None:
    from playwright.sync_api import expect

    page.goto(portal_server.url + "/signin")
    _sign_in(page, "not the password at all")
    expect(page.get_by_role("alert")).to_have_text("That password is not right.")
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(portal_server.url + "/projects")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fprojects$"))


def test_the_session_cookie_is_httponly_and_samesite_strict(
    page: Page, portal_server: ServedPortal
) -> None:
    from playwright.sync_api import expect

    page.goto(portal_server.url + "/signin")
    _sign_in(page, portal_server.password)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["integrator_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert portal_server.password not in session["value"]
    # the page's own scripts cannot read it
    assert "integrator_session" not in page.evaluate("document.cookie")


def test_a_page_asked_for_while_signed_out_opens_after_signing_in(
    page: Page, portal_server: ServedPortal
) -> None:
    from playwright.sync_api import expect

    page.goto(portal_server.url + "/runs?status=Error")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    _sign_in(page, portal_server.password)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert _path(page) == "/runs?status=Error"


def _focused(page: Page) -> str:
    """The focused element as ``tag#id`` or ``tag:text``."""
    described: str = page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : ':' + e.textContent.trim()); }"
    )
    return described


def test_the_keyboard_alone_signs_in(page: Page, portal_server: ServedPortal) -> None:
    from playwright.sync_api import expect

    page.goto(portal_server.url + "/signin")
    reached = []
    for _ in range(8):  # round the page once: the skip link, the brand, the field, the button
        page.keyboard.press("Tab")
        reached.append(_focused(page))
    assert "a:Skip to content" in reached, reached
    # Tab goes from the password field straight to the button
    pairs = list(itertools.pairwise(reached))
    assert ("input#password", "button:Sign in") in pairs, reached
    page.get_by_label("Password").focus()
    page.keyboard.type(portal_server.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert _path(page) == "/"


def test_the_sign_in_page_loads_its_styles_and_htmx_without_errors(
    page: Page, portal_server: ServedPortal
) -> None:
    from playwright.sync_api import expect

    failures: list[str] = []
    page.on("console", lambda m: failures.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: failures.append(str(e)))
    page.on(
        "response",
        lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(portal_server.url + "/signin", wait_until="load")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("typeof htmx") == "object"  # vendored, served from /static
    assert failures == []
