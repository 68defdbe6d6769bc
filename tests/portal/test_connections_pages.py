"""The connection sets pages and ``/api/connections``: connections with every secret masked
(neither the secret nor where it is kept reaches a page or the API), the organization mapping,
the integration keys, and Test connection against the sandbox and against a dead address."""

from __future__ import annotations

import pytest

from tests.portal.client import PortalClient

CLIENT_SECRET = "cs-Zq8#very-secret-client-value"
TOKEN = "tk-9f2e-very-secret-token-value"
SECRET_FILE = "secrets/finops.token"
FILE_SECRET = "file-held-secret-value-77"

PROD = """\
  prod:
    sales:
      kind: dataverse
      url: "http://127.0.0.1:9/sales/api/data/v9.2/"
      auth: {type: token, token: {env: PORTAL_TEST_SALES_TOKEN}}
    cds:
      kind: dataverse
      url: "https://cds.example.com/api/data/v9.2/"
      auth:
        type: client_credentials
        tenant_id: 11111111-2222-3333-4444-555555555555
        client_id: integrator-app-id
        client_secret: {env: PORTAL_TEST_CLIENT_SECRET}
    finops:
      kind: finops
      url: "https://fo.example.com/data/"
      auth: {type: token, token: {file: secrets/finops.token}}
    organization_mapping:
      cds_organization: ORG042
      finops_legal_entity: DEMF
"""


@pytest.fixture
def with_secrets(portal: PortalClient, monkeypatch: pytest.MonkeyPatch) -> PortalClient:
    """The portal, its workspace given a second connection set ``prod`` whose connections
    name secrets (in the environment and in a file)."""
    monkeypatch.setenv("PORTAL_TEST_SALES_TOKEN", TOKEN)
    monkeypatch.setenv("PORTAL_TEST_CLIENT_SECRET", CLIENT_SECRET)
    root = portal.context.root
    (root / "secrets").mkdir(mode=0o700)
    secret = root / SECRET_FILE
    secret.write_text(FILE_SECRET)
    secret.chmod(0o600)
    connections = root / "connections.yaml"
    connections.write_text(connections.read_text() + PROD)
    return portal


def _leaks(text: str) -> list[str]:
    words = (
        CLIENT_SECRET,
        TOKEN,
        FILE_SECRET,
        "PORTAL_TEST_SALES_TOKEN",
        "PORTAL_TEST_CLIENT_SECRET",
        SECRET_FILE,
    )
    return [word for word in words if word in text]


def test_no_secret_reaches_a_page_or_the_api(with_secrets: PortalClient) -> None:
    portal = with_secrets
    shown = portal.get("/connections/prod")
    assert shown.status_code == 200
    assert "••••••" in shown.text
    assert "integrator-app-id" in shown.text  # the client id is not a secret
    responses = [
        portal.get("/connections"),
        shown,
        portal.get("/api/connections"),
        portal.get("/api/connections/prod"),
        portal.get("/projects"),
        portal.get("/api/projects"),
        portal.get(
            "/projects/new?step=connections&name=X&template=Accounts%20(Sales%20to%20Fin%20and%20Ops)"
        ),
        portal.form("/connections/prod/test", {"system": "sales"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.url  # type: ignore[attr-defined]
        assert _leaks(response.text) == [], response.url  # type: ignore[attr-defined]
    api = portal.get("/api/connections/prod").json()
    cds = {c["system"]: c for c in api["connections"]}["cds"]
    assert cds["secret"] == "••••••"
    assert cds["settings"]["auth"]["client_secret"] == "••••••"
    assert cds["client_id"] == "integrator-app-id"


def test_a_connection_set_page_shows_its_organization_mapping_and_keys(
    with_secrets: PortalClient,
) -> None:
    default = with_secrets.get("/connections/default").text
    assert "CDS organization" in default and "ORG001" in default
    assert "F&amp;O legal entity" in default and "USMF" in default
    assert "accounts" in default and "accountnumber" in default
    assert "Test connection</button>" in default
    prod = with_secrets.get("/connections/prod").text
    assert "ORG042" in prod and "DEMF" in prod
    listing = with_secrets.get("/connections").text
    assert ">default</a>" in listing and ">prod</a>" in listing
    assert with_secrets.get("/connections/nope").status_code == 404


def test_test_connection_reaches_the_sandbox(portal: PortalClient) -> None:
    for system, label in (("sales", "Sales"), ("cds", "CDS"), ("finops", "F&amp;O")):
        page = portal.form("/connections/default/test", {"system": system})
        assert page.status_code == 200  # type: ignore[attr-defined]
        assert f"OK: reached {label} at http://127.0.0.1:" in page.text  # type: ignore[attr-defined]
        assert " ms</span>" in page.text  # type: ignore[attr-defined]
    partial = portal.post(
        "/connections/default/test",
        data={"system": "sales", "csrf_token": portal.csrf},
        headers={"HX-Request": "true"},
    )
    assert partial.text.strip().startswith('<span class="ok"')
    api = portal.post("/api/connections/default/sales/test", headers={"X-CSRF-Token": portal.csrf})
    assert api.json()["ok"] is True


def test_test_connection_says_why_a_dead_address_is_not_reached(
    with_secrets: PortalClient,
) -> None:
    page = with_secrets.form("/connections/prod/test", {"system": "sales"})
    text = page.text  # type: ignore[attr-defined]
    assert "Not reached:" in text
    assert "127.0.0.1:9" in text
    assert 'class="bad"' in text
