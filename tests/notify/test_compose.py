"""The mail of a run that ended in Error: its verdict, the stage's message, at most ten causes
and how many more, the portal link before the command."""

from __future__ import annotations

from pathlib import Path

from integrator.engine.history import Counts, RecordError, RunStatus, RunSummary, TaskSummary
from integrator.notify import compose


def test_an_error_run_with_many_causes(tmp_path: Path) -> None:
    errors = [
        RecordError("Accounts", "Source → CDS", f"ACC-{n}", f"field {n} is wrong", field=f"F{n}")
        for n in range(12)
    ]
    run = RunSummary(
        id=7,
        project="Accounts",
        status=RunStatus.ERROR,
        mode="incremental",
        started_at="2026-12-01T06:41:00.000Z",
        finished_at="2026-12-01T06:42:00.000Z",
        message="F&O cannot be reached",
        rerun_of=None,
        tasks=[
            TaskSummary("Accounts", RunStatus.ERROR, Counts(read=12, errors=12), errors),
            TaskSummary("Addresses", RunStatus.NOT_RUN, Counts()),
        ],
    )
    mail = compose(run, tmp_path, run_link="http://127.0.0.1:8780/runs/7")
    assert mail.subject == "Data integration project notification for project Accounts"
    lines = mail.body.splitlines()
    assert lines[0] == (
        "Here is the latest status for your project Accounts executed at 2026-12-01 06:41:00 UTC:"
    )
    assert lines[2:4] == ["Your project did not complete due to errors.", "F&O cannot be reached"]
    assert "Addresses | Not run |    0 |        0 |       0 |         0 |      0" in lines
    assert sum(line.startswith("  * 1 record (ACC-") for line in lines) == 10
    assert "  and 2 more causes: see the run." in lines
    link = lines.index("  http://127.0.0.1:8780/runs/7")
    assert lines[link + 1] == f'  integrator history --run 7 --workspace "{tmp_path}"'
