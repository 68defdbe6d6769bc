"""``/api/projects`` and ``/api/templates`` as a script uses them (a bearer token)."""

from __future__ import annotations

from tests.portal.client import PortalClient

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


def _token(portal: PortalClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {portal.context.credentials.new_token()}"}


def test_list_and_show(portal: PortalClient) -> None:
    auth = _token(portal)
    listing = portal.get("/api/projects", headers=auth).json()["projects"]
    accounts = {p["name"]: p for p in listing}[ACCOUNTS]
    assert accounts["file"] == f"projects/{ACCOUNTS}.yaml"
    assert accounts["template"] == ACCOUNTS
    assert accounts["connection_set"] == "default"
    assert accounts["latest_run"] is None and accounts["next_run_at"] is None
    shown = portal.get(f"/api/projects/{CONTACTS}", headers=auth).json()
    assert shown["project"] == CONTACTS
    assert shown["required_prior"] == [ACCOUNTS]
    assert shown["tasks"][0]["legs"][0]["rows"]
    assert shown["problems"] == [] and shown["unavailable"] is None
    assert len(shown["version"]) == 16
    missing = portal.get("/api/projects/Nope", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not-found"


def test_create_save_as_template_and_delete(portal: PortalClient) -> None:
    auth = _token(portal)
    created = portal.post(
        "/api/projects",
        json={"name": "EU contacts", "template": CONTACTS, "connection_set": "default"},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"project": "EU contacts", "file": "projects/EU contacts.yaml"}
    taken = portal.post(
        "/api/projects", json={"name": "EU contacts", "template": CONTACTS}, headers=auth
    )
    assert taken.status_code == 422
    assert "already exists" in taken.json()["error"]["problems"][0]["message"]
    unknown = portal.post("/api/projects", json={"name": "X", "template": "Nope"}, headers=auth)
    assert unknown.status_code == 422
    saved = portal.post(
        "/api/templates",
        json={"project": "EU contacts", "name": "EU contacts template"},
        headers=auth,
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["file"] == "templates/EU contacts template.yaml"
    templates = {
        t["name"]: t for t in portal.get("/api/templates", headers=auth).json()["templates"]
    }
    mine = templates["EU contacts template"]
    assert mine["shipped"] is False and mine["tasks"] == ["Contacts"]
    assert mine["required_prior"] == [ACCOUNTS]
    assert templates[ACCOUNTS]["shipped"] is True
    deleted = portal.delete("/api/projects/EU%20contacts", headers=auth)
    assert deleted.status_code == 200
    assert deleted.json()["history_kept"] is True
    assert not (portal.context.root / "projects" / "EU contacts.yaml").exists()
    assert portal.get("/api/projects/EU%20contacts", headers=auth).status_code == 404
