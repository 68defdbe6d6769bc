"""``set_project_key``: one top-level key of a project file changed, everything else kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.config.edit import set_project_key
from integrator.config.workspace import load_workspace
from integrator.errors import ConfigError
from tests.schedule.conftest import ACCOUNTS

FILE = f"projects/{ACCOUNTS}.yaml"


def test_replacing_and_removing_a_key_keep_the_comments_around_it(workspace_root: Path) -> None:
    path = workspace_root / FILE
    text = path.read_text().replace(
        "# schedule: {every: 15, unit: minutes}\n",
        "schedule: {every: 1, unit: hours}  # hourly for now\n# what follows: the description\n",
    )
    path.write_text(text)
    set_project_key(
        load_workspace(workspace_root), ACCOUNTS, "schedule", {"every": 2, "unit": "days"}
    )
    replaced = path.read_text()
    assert "schedule: {every: 2, unit: days}" in replaced
    assert "# hourly for now\n# what follows: the description\ndescription:" in replaced
    others = [line for line in replaced.splitlines() if not line.startswith("schedule:")]
    assert others == [line for line in text.splitlines() if not line.startswith("schedule:")]

    set_project_key(load_workspace(workspace_root), ACCOUNTS, "schedule", None)
    removed = path.read_text()
    assert "schedule" not in removed.split("# what follows")[0]
    assert "# what follows: the description\ndescription:" in removed
    assert "hourly for now" not in removed, "the comment on the removed line goes with it"
    assert load_workspace(workspace_root).projects[ACCOUNTS].schedule is None


def test_a_bad_value_names_file_and_line_and_writes_nothing(workspace_root: Path) -> None:
    path = workspace_root / FILE
    before = path.read_text()
    with pytest.raises(ConfigError) as raised:
        set_project_key(
            load_workspace(workspace_root), ACCOUNTS, "schedule", {"every": 5, "unit": "fortnights"}
        )
    line = before.splitlines().index("# schedule: {every: 15, unit: minutes}") + 2
    assert f"{FILE}:{line}" in str(raised.value)
    assert "schedule.unit" in str(raised.value)
    assert path.read_text() == before


def test_other_keys_too(workspace_root: Path) -> None:
    path = workspace_root / FILE
    with (workspace_root / "integrator.yaml").open("a") as settings:  # notify: needs a server
        settings.write("smtp: {host: 127.0.0.1, sender: integrator@contoso.com}\n")
    set_project_key(
        load_workspace(workspace_root), ACCOUNTS, "notify", {"emails": ["ops@contoso.com"]}
    )
    assert "notify: {emails: [ops@contoso.com]}" in path.read_text()
    assert load_workspace(workspace_root).projects[ACCOUNTS].notify is not None
