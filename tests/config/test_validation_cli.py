"""What ``integrator run`` says about the configuration, through the real command: which
projects it validates, how it finds a project by name, YAML syntax errors, and the organization
mapping the templates bind their organization fields to."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from integrator.sandbox.stores.store import SandboxStore
from integrator.sandbox.testing import SandboxHandle
from tests.commands import integrator
from tests.config.helpers import ACCOUNTS, CONTACTS, CUSTOMERS, edit, line_containing
from tests.golden.dataset import load_sales

#: nothing listens there: the commands below must not need a system to say what they say
NOWHERE = "http://127.0.0.1:9"


def _init(root: Path, url: str) -> Path:
    done = integrator("init", str(root), "--sandbox", url)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def offline(tmp_path: Path) -> Path:
    """A workspace whose systems cannot be reached."""
    return _init(tmp_path / "ws", NOWHERE)


@pytest.fixture
def online(tmp_path: Path, sandbox: SandboxHandle) -> Path:
    """A workspace on a sandbox holding the golden Sales data."""
    load_sales(sandbox.data_dir)
    return _init(tmp_path / "ws", sandbox.url)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    """What the command printed, with runs of white space as one space (a long line may be
    wrapped)."""
    return " ".join((result.stdout + result.stderr).split())


def _project(workspace: Path, name: str) -> Path:
    return workspace / "projects" / f"{name}.yaml"


def test_problems_in_other_projects_do_not_block_the_one_that_runs(online: Path) -> None:
    contacts, customers = _project(online, CONTACTS), _project(online, CUSTOMERS)
    edit(contacts, "source: jobtitle}", "source: jobtitel}")  # only the metadata can tell
    edit(customers, "    keys:\n", "\tkeys:\n")  # a YAML syntax error

    accounts = integrator("run", ACCOUNTS, "--workspace", str(online), "--json")
    assert accounts.returncode == 0, _output(accounts)
    assert [run["project"] for run in json.loads(accounts.stdout)["runs"]] == [ACCOUNTS]

    everything = integrator("run", "--workspace", str(online))
    assert everything.returncode == 2
    line = line_containing(customers, "\tkeys:")
    assert (
        f"projects/{CUSTOMERS}.yaml:{line}: YAML syntax error: a tab is not allowed for "
        "indentation: indent with spaces" in _output(everything)
    )


def test_a_prerequisites_problem_blocks_the_project_that_needs_it(online: Path) -> None:
    edit(_project(online, ACCOUNTS), "source: telephone1}", "source: telephone9}")
    result = integrator("run", CONTACTS, "--workspace", str(online))
    assert result.returncode == 2
    assert "field 'telephone9' does not exist on accounts" in _output(result)


def test_a_name_matching_several_projects_lists_only_those(offline: Path) -> None:
    result = integrator("run", "Contacts", "--workspace", str(offline))
    assert result.returncode == 2
    output = _output(result)
    assert '"Contacts" matches 2 projects; name one of them:' in output
    assert CONTACTS in output and CUSTOMERS in output
    assert ACCOUNTS not in output


def test_yaml_syntax_errors_name_file_line_and_what_to_fix(offline: Path) -> None:
    contacts = _project(offline, CONTACTS)
    edit(contacts, "source_filter: msdynce", "source_filter msdynce")
    result = integrator("run", CONTACTS, "--workspace", str(offline))
    assert result.returncode == 2
    line = line_containing(contacts, "source_filter msdynce")
    assert (
        f"projects/{CONTACTS}.yaml:{line}: YAML syntax error: a ':' is missing after the key "
        "(write `key: value`) (line "
    ) in _output(result)
    assert "while scanning" not in _output(result)


def test_a_sales_business_unit_is_refused_as_it_would_do_nothing(offline: Path) -> None:
    connections = offline / "connections.yaml"
    edit(connections, "      finops_legal_entity: USMF\n", "      sales_business_unit: Contoso\n"
         "      finops_legal_entity: USMF\n")  # fmt: skip
    result = integrator("run", ACCOUNTS, "--workspace", str(offline))
    assert result.returncode == 2
    assert "sales_business_unit does nothing" in _output(result)


def test_an_organization_that_does_not_exist_is_refused_before_anything_is_written(
    online: Path, sandbox: SandboxHandle
) -> None:
    connections = online / "connections.yaml"
    edit(connections, "cds_organization: ORG001", "cds_organization: ORG002")
    edit(connections, "finops_legal_entity: USMF", "finops_legal_entity: GBSI")
    result = integrator("run", ACCOUNTS, "--workspace", str(online))
    assert result.returncode == 2
    output = _output(result)
    org_line = line_containing(connections, "cds_organization: ORG002")
    entity_line = line_containing(connections, "finops_legal_entity: GBSI")
    assert (
        f'connections.yaml:{org_line}: connection set "default", '
        "organization_mapping.cds_organization: the CDS organization 'ORG002' does not exist "
        "in cds (organizations: ORG001)"
    ) in output
    assert (
        f'connections.yaml:{entity_line}: connection set "default", '
        "organization_mapping.finops_legal_entity: the F&O legal entity 'GBSI' does not exist "
        "in finops (LegalEntities: DEMF, USMF)"
    ) in output
    # the template value the seed shows (Default ORG001) no longer agrees with the mapping
    accounts = _project(online, ACCOUNTS)
    assert (
        f"projects/{ACCOUNTS}.yaml:{line_containing(accounts, 'value: ORG001')}: "
        f'project "{ACCOUNTS}", task Accounts, leg Source → CDS, row 14, transforms[1]: '
        "the template value 'ORG001' disagrees with the organization mapping's "
        f"cds_organization 'ORG002' (connections.yaml:{org_line}), which "
        "Organization_OrganizationId is bound to: make them the same"
    ) in output
    writes = sandbox.request_counts()["requests"]
    assert all(
        writes.get(system, {}).get(method, 0) == 0
        for system in ("cds", "finops")
        for method in ("POST", "PATCH")
    )


def test_the_connection_sets_organizations_are_what_cds_and_finops_get(
    online: Path, sandbox: SandboxHandle
) -> None:
    cds = SandboxStore.open(sandbox.data_dir).connect("cds")
    with cds:
        cds.execute("INSERT INTO organizations (OrganizationId, Name) VALUES ('ORG002', 'Two')")
    connections = online / "connections.yaml"
    edit(connections, "cds_organization: ORG001", "cds_organization: ORG002")
    edit(connections, "finops_legal_entity: USMF", "finops_legal_entity: DEMF")
    # a bound field needs no mapping row: its value is the connection set's
    edit(
        _project(online, ACCOUNTS),
        "      - destination: Organization_OrganizationId\n"
        "        transforms: [{type: Default, value: ORG001}]\n",
        "",
    )
    result = integrator("run", ACCOUNTS, "--workspace", str(online), "--json")
    assert result.returncode == 0, _output(result)
    counts = json.loads(result.stdout)["runs"][0]["tasks"][0]["counts"]
    assert counts["inserted"] > 0

    organizations = {
        row[0] for row in cds.execute("SELECT Organization_OrganizationId FROM accounts")
    }
    cds.close()
    assert organizations == {"ORG002"}
    finops = SandboxStore.open(sandbox.data_dir).connect("finops")
    companies = {row[0] for row in finops.execute("SELECT dataAreaId FROM CustomersV2")}
    finops.close()
    assert companies == {"demf"}
