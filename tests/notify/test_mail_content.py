"""A run that ends in Warning mails its project's recipients through a real SMTP server:
subject, status, per-task counts, causes with their fix, the command that opens the run; the
same failures again send nothing; ``on: [error]`` sends nothing for a Warning."""

from __future__ import annotations

from pathlib import Path

from tests.notify.conftest import (
    ACCOUNTS,
    CONTACTS,
    OPS,
    SENDER,
    Configure,
    history_of,
    run_both,
)
from tests.notify.smtp_servers import Handler, smtp_server


def _table_rows(body: str) -> dict[str, list[str]]:
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 7:
            rows[cells[0]] = cells[1:]
    return rows


def test_a_warning_mails_status_counts_and_causes_once(configure: Configure) -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        root = configure(port, accounts_on="[error]")
        runs = run_both(root)
        contacts, accounts = runs[CONTACTS], runs[ACCOUNTS]
        assert (contacts["status"], accounts["status"]) == ("Warning", "Warning")

        # Accounts asked for errors only: one mail, Contacts'
        assert len(handler.received) == 1
        mail = handler.received[0]
        assert mail.mail_from == SENDER and mail.rcpt_tos == [OPS]
        assert mail.message["To"] == OPS and mail.message["From"] == SENDER
        assert mail.message["Subject"] == (
            f"Data integration project notification for project {CONTACTS}"
        )
        body = mail.body
        assert f"Here is the latest status for your project {CONTACTS} executed at 20" in body
        assert "Your project completed with warnings." in body
        rows = _table_rows(body)
        assert rows["Task"] == ["Status", "Read", "Inserted", "Updated", "Unchanged", "Errors"]
        for task in contacts["tasks"]:
            counts = task["counts"]
            assert rows[task["name"]] == [
                task["status"],
                *(str(counts[k]) for k in ("read", "inserted", "updated", "unchanged", "errors")),
            ]
        assert any(t["counts"]["errors"] for t in contacts["tasks"])
        assert "Failed records, by cause:" in body
        assert (
            "CON-01002-INFLUE" in body
            and "DecisionMakingRoleCode 'Influencer' does not exist in company USMF" in body
        )
        assert "    Fix: " in body
        assert (
            f'integrator history --run {contacts["id"]} --workspace "{Path(root).resolve()}"'
            in body
        )

        text, detail = history_of(root, contacts["id"])
        assert f"Mail to {OPS}: sent at 20" in text
        assert detail["mail"]["status"] == "sent" and detail["mail"]["attempts"] == 1
        assert detail["mail"]["recipients"] == [OPS]
        text, detail = history_of(root, accounts["id"])
        assert "Mail to" not in text and detail["mail"] is None

        # the same records failing the same way again: no second mail
        again = run_both(root, "--retry-failed")[CONTACTS]
        assert again["status"] == "Warning"
        assert any(t["counts"]["errors"] for t in again["tasks"])
        assert len(handler.received) == 1
        text, detail = history_of(root, again["id"])
        assert "Mail to" not in text and detail["mail"] is None
