"""The mapping page, as a person uses it: the seed's grid, edits kept in the page until Save,
Save validating first, and two browsers that do not overwrite each other."""

from __future__ import annotations

import difflib
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.commands import integrator
from tests.portal.client import PortalClient, signed_in_client

CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
FILE = f"projects/{CONTACTS}.yaml"
PAGE = "/projects/Contacts%20to%20Contact%20%28Sales%20to%20Fin%20and%20Ops%29/tasks/0/mapping"
TO_DESTINATION = f"{PAGE}?leg=cds_to_destination"


class _Form(HTMLParser):
    """The fields the mapping form sends, as a browser would (hidden and text inputs,
    selected options); buttons are not fields."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._selected: str | None = None
        self._first: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "input" and values.get("name"):
            self.fields.append((values["name"], values.get("value", "")))
        elif tag == "select":
            self._select, self._selected, self._first = values.get("name"), None, None
        elif tag == "option" and self._select is not None:
            if self._first is None:
                self._first = values.get("value", "")
            if "selected" in values:
                self._selected = values.get("value", "")
        elif tag == "textarea" and values.get("name"):
            self.fields.append((values["name"], ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = self._selected if self._selected is not None else self._first
            self.fields.append((self._select, chosen or ""))
            self._select = None


def _fields(page: str) -> list[tuple[str, str]]:
    editor = page[page.index('<div id="editor">') :]
    parser = _Form()
    parser.feed(editor)
    return parser.fields


def _act(client: PortalClient, page: str, op: str, url: str = PAGE, **changes: str) -> Any:
    """Click the button ``op`` of ``page``'s mapping form after filling in ``changes``."""
    fields = [(k, changes.pop(k)) if k in changes else (k, v) for k, v in _fields(page)]
    fields = [*fields, *changes.items(), ("op", op)]
    return client.post(
        url,
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=True,
    )


def _index_of(page: str, destination: str) -> int:
    found = re.search(rf'value="edit:(\d+)" aria-label="Edit {destination}"', page)
    assert found, f"no row for {destination}"
    return int(found.group(1))


def _text(page: str) -> str:
    """The page's text as a person reads it (tags dropped, spaces collapsed)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_the_page_shows_the_seed_grid(portal: PortalClient) -> None:
    got = portal.get(TO_DESTINATION)
    assert got.status_code == 200
    text = _text(got.text)
    assert f"{CONTACTS} Field Mapping: Contacts" in text
    assert "SOURCE CDS.contacts" in text
    assert "DESTINATION F&O.CDSContactPersons" in text
    for heading in (
        "SOURCE FIELD",
        "MAP TYPE",
        "DESTINATION FIELD",
        "TEMPLATE VALUE / TRANSFORMS",
        "ISSUES",
    ):
        assert f'<th scope="col">{heading}</th>' in got.text
    assert "Source → CDS" in text and "CDS → Destination" in text
    assert "PrimaryAccountRole = DecisionMakingRoleCode" in text
    assert "PrimaryAddressCountryRegionISOCode Fn PrimaryAddressCountryRegionISOCode USA" in text
    assert "This project has mapping errors." not in text
    source_leg = _text(portal.get(PAGE).text)
    assert "SOURCE Sales.contacts" in source_leg and "DESTINATION CDS.contacts" in source_leg
    assert "accountrolecode Fn PrimaryAccountRole ValueMap 1 → DecisionMaker" in source_leg


def test_search_shows_only_the_matching_rows(portal: PortalClient) -> None:
    page = portal.get(TO_DESTINATION).text
    found = _act(portal, page, "search", q="decision")
    assert "CDS → Destination: 1 of 16 rows matching “decision”" in _text(found.text)
    assert found.text.count("<tr id=") - found.text.count("hidden>") == 1


def test_a_changed_template_value_is_saved_as_exactly_that_line(
    portal: PortalClient, workspace: Path
) -> None:
    before = (workspace / FILE).read_text()
    page = portal.get(TO_DESTINATION).text
    row = _index_of(page, "PrimaryAddressCountryRegionISOCode")
    editor = _act(portal, page, f"edit:{row}")
    assert 'id="edit-value" name="edit_value" value="USA"' in editor.text
    applied = _act(portal, editor.text, f"apply:{row}", edit_value="CAN")
    assert "PrimaryAddressCountryRegionISOCode CAN" in _text(applied.text)
    assert "Unsaved changes" in _text(applied.text)
    assert (workspace / FILE).read_text() == before  # nothing written before Save
    saved = _act(portal, applied.text, "save")
    assert saved.status_code == 200
    assert f"Saved to {FILE}" in _text(saved.text)
    assert _changed_lines(before, (workspace / FILE).read_text()) == [
        "-        transforms: [{type: Default, value: USA}]",
        "+        transforms: [{type: Default, value: CAN}]",
    ]
    shown = integrator("project", "show", CONTACTS, "--workspace", str(workspace))
    assert re.search(r"PrimaryAddressCountryRegionISOCode\s*│\s*CAN", shown.stdout), shown.stdout


def test_a_removed_row_is_saved_with_the_comments_intact(
    portal: PortalClient, workspace: Path
) -> None:
    before = (workspace / FILE).read_text()
    page = portal.get(TO_DESTINATION).text
    removed = _act(portal, page, f"remove:{_index_of(page, 'DecisionMakingRoleCode')}")
    assert "Remove DecisionMakingRoleCode" not in removed.text
    assert "Removed the row of DecisionMakingRoleCode (not saved yet)." in _text(removed.text)
    saved = _act(portal, removed.text, "save")
    assert f"Saved to {FILE}" in _text(saved.text)
    assert "Remove DecisionMakingRoleCode" not in saved.text
    after = (workspace / FILE).read_text()
    assert _changed_lines(before, after) == [
        "-      - {destination: DecisionMakingRoleCode, source: PrimaryAccountRole}"
    ]
    assert "# (DecisionMakingRoles), or remove this row." in after
    assert "# Contact persons written from Sales are maintained there." in after
    shown = integrator("project", "show", CONTACTS, "--workspace", str(workspace))
    assert shown.returncode == 0 and "DecisionMakingRoleCode" not in shown.stdout


def test_an_added_row_and_a_changed_filter_are_saved(portal: PortalClient, workspace: Path) -> None:
    before = (workspace / FILE).read_text()
    page = portal.get(TO_DESTINATION).text
    page = _act(portal, page, f"remove:{_index_of(page, 'PrimaryFaxNumber')}").text
    assert '<option value="PrimaryFaxNumber">PrimaryFaxNumber</option>' in page
    chosen = _act(portal, page, "add:arguments", add_transform="Truncate")
    assert 'name="add_arg_length"' in chosen.text
    added = _act(
        portal,
        chosen.text,
        "add",
        add_destination="PrimaryFaxNumber",
        add_source="PhoneCell",
        add_transform="",
    )
    assert "PhoneCell = PrimaryFaxNumber" in _text(added.text)
    saved = _act(portal, added.text, "save", source_filter="msdynce_isactivecustomer eq false")
    assert f"Saved to {FILE}" in _text(saved.text), _text(saved.text)
    assert _changed_lines(before, (workspace / FILE).read_text()) == [
        "-    source_filter: msdynce_isactivecustomer eq false and "
        "msdynce_iscompanyanaccount eq true",
        "+    source_filter: msdynce_isactivecustomer eq false",
        "-      - {destination: PrimaryFaxNumber, source: Fax}",
        "+      - {destination: PrimaryFaxNumber, source: PhoneCell}",
    ]


def test_an_invalid_change_is_refused_with_the_problem_on_its_row(
    portal: PortalClient, workspace: Path
) -> None:
    before = (workspace / FILE).read_bytes()
    page = portal.get(TO_DESTINATION).text
    added = _act(portal, page, "add", add_destination="NoSuchField", add_source="ContactId")
    refused = _act(portal, added.text, "save")
    assert refused.status_code == 422
    text = _text(refused.text)
    assert "This project has mapping errors." in text
    row = re.search(r'<tr id="row-16" class="has-issues">(.*?)</tr>', refused.text, re.S)
    assert row, "the new row is not marked"
    assert "NoSuchField" in _text(row.group(1)) and "does not exist" in _text(row.group(1))
    assert "Unsaved changes" in text  # the draft is kept, to be fixed
    assert (workspace / FILE).read_bytes() == before


def test_a_file_edited_on_disk_shows_on_the_next_get(portal: PortalClient, workspace: Path) -> None:
    assert "CountryRegionISOCode USA" in _text(portal.get(TO_DESTINATION).text)
    path = workspace / FILE
    path.write_text(path.read_text().replace("value: USA}", "value: MEX}"))
    assert "CountryRegionISOCode MEX" in _text(portal.get(TO_DESTINATION).text)


def test_a_second_browser_saving_a_stale_page_is_refused_with_the_diff(
    portal: PortalClient, workspace: Path
) -> None:
    other = signed_in_client(workspace)
    with other:
        mine = portal.get(TO_DESTINATION).text
        theirs = other.get(TO_DESTINATION).text
        first = _act(portal, mine, f"remove:{_index_of(mine, 'DecisionMakingRoleCode')}")
        assert f"Saved to {FILE}" in _text(_act(portal, first.text, "save").text)
        saved = (workspace / FILE).read_bytes()
        row = _index_of(theirs, "PrimaryAddressCountryRegionISOCode")
        edited = _act(
            other, _act(other, theirs, f"edit:{row}").text, f"apply:{row}", edit_value="CAN"
        )
        refused = _act(other, edited.text, "save")
        assert refused.status_code == 409
        text = _text(refused.text)
        assert "changed since you opened it" in text
        diff = html.unescape(refused.text)
        assert "-      - {destination: DecisionMakingRoleCode, source: PrimaryAccountRole}" in diff
        assert re.search(r'<a href="[^"]*leg=cds_to_destination">Reload</a>', refused.text)
        assert (workspace / FILE).read_bytes() == saved
    other.context.close()


def test_with_the_systems_down_the_grid_still_shows_from_the_file(
    portal: PortalClient, workspace: Path
) -> None:
    connections = workspace / "connections.yaml"
    text = connections.read_text()
    sandbox = re.search(r'url: "(http://[^/]+)/', text)
    assert sandbox
    connections.write_text(text.replace(sandbox.group(1), "http://127.0.0.1:9"))
    got = portal.get(TO_DESTINATION)
    assert got.status_code == 200
    page = _text(got.text)
    assert "PrimaryAccountRole = DecisionMakingRoleCode" in page
    assert "The field lists are unavailable:" in page
    assert "Not checked against the systems:" in page


def test_choosing_a_transform_shows_its_arguments_and_keeps_what_was_typed(
    portal: PortalClient,
) -> None:
    page = portal.get(TO_DESTINATION).text
    row = _index_of(page, "PrimaryAddressCountryRegionISOCode")
    editor = _act(portal, page, f"edit:{row}")
    chosen = _act(portal, editor.text, f"edit:{row}", edit_transform="Truncate", edit_value="CAN")
    assert 'name="edit_arg_length"' in chosen.text
    assert 'id="edit-value" name="edit_value" value="CAN"' in chosen.text
    applied = _act(portal, chosen.text, f"apply:{row}", edit_arg_length="3")
    assert "PrimaryAddressCountryRegionISOCode CAN Truncate length: 3" in _text(applied.text)
