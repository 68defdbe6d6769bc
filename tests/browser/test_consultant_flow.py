"""The flow a consultant follows in the portal, in a real browser on a real ``integrator
serve`` over a real sandbox: sign in, run Accounts, open the Contacts to Contact mapping,
change a template value, remove the DecisionMakingRoleCode row, save, run, watch it finish,
open the failed records, re-run them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.serving import ServedPortal
from tests.commands import integrator

if TYPE_CHECKING:
    from playwright.sync_api import Page

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
#: a run of the golden dataset takes a few seconds; CI machines are slow and shared
RUN_SECONDS = 120_000


def _sign_in(page: Page, served: ServedPortal) -> None:
    from playwright.sync_api import expect

    page.goto(served.url + "/")
    page.get_by_label("Password").fill(served.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _wait_for_the_end(page: Page) -> None:
    """The run page polls while the run runs and reloads when it ends: wait for that."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Failed records by cause")).to_be_visible(
        timeout=RUN_SECONDS
    )


def _run_from_projects(page: Page, project: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=project, exact=True))
    row.get_by_role("button", name="Run project", exact=True).click()


def test_change_a_mapping_save_run_read_the_failures_and_rerun(
    page: Page, portal_server: ServedPortal, workspace: Path
) -> None:
    from playwright.sync_api import expect

    project_file = workspace / "projects" / f"{CONTACTS}.yaml"
    before = project_file.read_text()
    _sign_in(page, portal_server)

    # Accounts first: Contacts to Contact requires it
    _run_from_projects(page, ACCOUNTS)
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    _wait_for_the_end(page)
    expect(page.locator("main")).to_contain_text("Atlantis")

    # the Contacts to Contact mapping, its CDS → Destination leg
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name=CONTACTS, exact=True).click()
    expect(page.get_by_role("heading", name=CONTACTS)).to_be_visible()
    page.get_by_role("link", name="Map Contacts").click()
    page.get_by_role("link", name="CDS → Destination").click()
    grid = page.locator("main table").first
    expect(grid).to_contain_text("DecisionMakingRoleCode")

    # change a template value: the country written when CDS has none
    page.get_by_role("button", name="Edit PrimaryAddressCountryRegionISOCode").click()
    editor_value = page.locator("#edit-value")  # the row editor's (Add mapping has one too)
    expect(editor_value).to_be_visible()
    editor_value.fill("CAN")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="PrimaryAddressCountryRegionISOCode")
    expect(row).to_contain_text("CAN")

    # remove the row the seed document says to remove when the role does not exist in F&O
    page.get_by_role("button", name="Remove DecisionMakingRoleCode").click()
    expect(
        page.get_by_text("Removed the row of DecisionMakingRoleCode (not saved yet).")
    ).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"Saved to projects/{CONTACTS}.yaml")).to_be_visible()
    expect(page.locator("main table").first).not_to_contain_text("DecisionMakingRoleCode")

    # the file holds exactly those two edits, every comment kept
    after = project_file.read_text()
    assert "destination: DecisionMakingRoleCode" not in after
    assert "value: CAN" in after and "value: USA" not in after
    kept = [line for line in before.splitlines() if line.strip().startswith("#")]
    assert all(line in after.splitlines() for line in kept if "DecisionMakingRole" not in line)
    shown = integrator("project", "show", CONTACTS, "--workspace", str(workspace))
    assert shown.returncode == 0 and "DecisionMakingRoleCode" not in shown.stdout

    # run it and watch it finish: only the contact whose account failed is left
    page.get_by_role("link", name=CONTACTS).first.click()
    page.get_by_role("button", name="Run project", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    first_run = page.url
    _wait_for_the_end(page)
    failed = page.get_by_role("table").filter(has_text="Record ID in source")
    expect(failed).to_contain_text("PrimaryAccount_AccountId")
    expect(page.locator("main")).not_to_contain_text("DecisionMakingRoleCode")
    expect(page.locator("main")).to_contain_text("Fix:")

    # Re-run execution: a new run of only the failed record
    page.get_by_role("button", name="Re-run execution").click()
    expect(page).not_to_have_url(first_run)
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Re-run")
    _wait_for_the_end(page)
    expect(page.locator("main")).to_contain_text("PrimaryAccount_AccountId")
