"""Every form on every page carries the session's CSRF token (an empty one would be refused:
the form would do nothing but answer 403)."""

from __future__ import annotations

import re

from integrator.portal.app import path_segment
from tests.portal.client import PortalClient

_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


def test_every_form_on_every_page_carries_the_session_token(portal: PortalClient) -> None:
    project = f"/projects/{path_segment(CONTACTS)}"
    pages = [
        "/",
        "/projects",
        "/projects/new",
        project,
        f"{project}?tab=scheduling",
        f"{project}/tasks/0/mapping?leg=cds_to_destination",
        "/runs",
        "/connections",
        "/connections/default",
        "/templates",
    ]
    for path in pages:
        response = portal.get(path)
        assert response.status_code == 200, (path, response.status_code)
        tokens = _FIELD.findall(response.text)
        assert all(token == portal.csrf for token in tokens), (path, set(tokens))
