"""``integrator demo``: one command, nothing set up, twice in a row."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_engine_cli import integrator


def test_demo_runs_twice_and_spells_out_the_influencer_fix(tmp_path: Path) -> None:
    for attempt in range(2):
        result = integrator("demo", "--contacts", "400", "--accounts", "40")
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert "Accounts (Sales to Fin and Ops)" in out
        assert "Execution history" in out and "Where the records went" in out
        assert "DecisionMakingRoleCode 'Influencer' does not exist in company USMF" in out
        assert "Fix: Add the decision-making role 'Influencer' in F&O" in out
        assert "integrator rerun 2" in out, attempt


def test_demo_keeps_its_folder_when_asked(tmp_path: Path) -> None:
    result = integrator("demo", "--contacts", "200", "--accounts", "20", "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "workspace" / "integrator.yaml").is_file()
    history = integrator("history", "--workspace", str(tmp_path / "workspace"), "--json")
    assert history.returncode == 0 and '"project"' in history.stdout
