"""Reconciliation and the retry policy are pure: no sandbox, no database, no connector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integrator.connectors.base import Outcome, RecordResult
from integrator.engine.history import RecordFailure, RecordState
from integrator.engine.pages import MappedLeg, MappedPage, RecordProblem, Stale
from integrator.engine.reconcile import TaskShape, reconcile, settle_removals, written_ahead
from integrator.engine.retry import backoff, due, failed_again
from integrator.engine.taskplan import KeyCodec

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SHAPE = TaskShape(
    "Contacts",
    ("Source → CDS", "CDS → Destination"),
    KeyCodec(id_fields=("contactid",), key_fields=("number",), id_types={}),
)
ANN = {"contactid": "a", "number": "CON-1"}
ANN_ID = '["a"]'
OLD = {"ContactPersonId": "CON-1", "AssociatedPartyNumber": "ACC-1"}
NEW = {"ContactPersonId": "CON-1", "AssociatedPartyNumber": "ACC-2"}
CDS = {"ContactId": "CON-1"}


def _page(*, left: list[str] | None = None, deleted: list[str] | None = None) -> MappedPage:
    selected = [] if left or deleted else [ANN]
    return MappedPage(
        selected=selected,
        ids=[ANN_ID] if selected else [],
        record_keys=["CON-1"] if selected else [],
        left=left or [],
        deleted=deleted or [],
        legs=[MappedLeg([], []), MappedLeg([], [])],
        intended=[[CDS, NEW]] if selected else [],
    )


def _moved() -> RecordState:
    return RecordState(ANN_ID, "CON-1", [[CDS], [OLD]])


def test_a_record_that_moved_leaves_its_old_row_stale() -> None:
    prior = {ANN_ID: _moved()}
    result = reconcile(
        SHAPE,
        prior,
        _page(),
        [[CDS, NEW]],
        [[Outcome.UNCHANGED, Outcome.INSERTED]],
        [],
        run_id=2,
        now=NOW,
    )
    assert result.reconciliation.stale == [Stale(1, OLD, ANN_ID)]
    assert result.states == [RecordState(ANN_ID, "CON-1", [[CDS], [NEW]])]
    assert (result.counts.read, result.counts.inserted, result.counts.errors) == (1, 1, 0)


def test_the_keys_about_to_be_written_are_known_before_the_writes() -> None:
    keys, ahead = written_ahead({ANN_ID: _moved()}, _page(), legs=2)
    assert keys[ANN_ID] == [[CDS], [OLD, NEW]]
    assert ahead == [RecordState(ANN_ID, "CON-1", [[CDS], [OLD, NEW]], pending=True)]
    # nothing new to know: nothing written ahead
    same = RecordState(ANN_ID, "CON-1", [[CDS], [NEW]])
    assert written_ahead({ANN_ID: same}, _page(), legs=2)[1] == []


def test_a_failed_record_keeps_every_key_and_failing_again_the_same_way_is_still_failing() -> None:
    problem = RecordProblem(0, 1, "DecisionMakingRoleCode", "'Influencer' does not exist")
    first = reconcile(
        SHAPE, {}, _page(), [[CDS]], [[Outcome.INSERTED]], [problem], run_id=1, now=NOW
    )
    [state] = first.states
    assert state.pending and state.leg_keys == [[CDS], [NEW]]
    assert state.failure is not None and state.failure.kind == "data"
    assert state.failure.retry_at == "2026-12-01T09:00:00.000Z"  # an hour later
    assert (first.counts.errors, first.counts.still_failing) == (1, 0)
    assert first.errors[0].leg == "CDS → Destination" and first.errors[0].source_key == {
        "contactid": "a"
    }

    later = NOW + timedelta(hours=1)
    again = reconcile(
        SHAPE,
        {ANN_ID: state},
        _page(),
        [[CDS]],
        [[Outcome.UNCHANGED]],
        [problem],
        run_id=3,
        now=later,
    )
    [retried] = again.states
    assert (again.counts.errors, again.counts.still_failing) == (1, 1)
    assert again.errors[0].still_failing
    assert retried.failure is not None
    assert (retried.failure.since_run, retried.failure.attempts) == (1, 2)
    assert retried.failure.retry_at == "2026-12-01T11:00:00.000Z"  # two hours later

    other = RecordProblem(0, 1, "DecisionMakingRoleCode", "another message")
    changed = reconcile(
        SHAPE,
        {ANN_ID: state},
        _page(),
        [[CDS]],
        [[Outcome.UNCHANGED]],
        [other],
        run_id=3,
        now=later,
    )
    assert changed.counts.still_failing == 0 and changed.states[0].failure.since_run == 3  # type: ignore[union-attr]


def test_a_record_gone_from_the_source_is_forgotten_once_its_rows_are_removed() -> None:
    prior = {ANN_ID: _moved()}
    result = reconcile(SHAPE, prior, _page(deleted=[ANN_ID]), [], [], [], run_id=2, now=NOW)
    stale = result.reconciliation.stale
    assert stale == [Stale(0, CDS, ANN_ID), Stale(1, OLD, ANN_ID)]
    answers = [(item, RecordResult(item.key, Outcome.DELETED)) for item in stale]
    settled = settle_removals(SHAPE, result, answers, run_id=2, now=NOW)
    assert settled.forget == [ANN_ID] and settled.states == [] and settled.removed == 2


def test_a_refused_removal_keeps_its_key_pending_and_is_a_failed_record() -> None:
    prior = {ANN_ID: _moved()}
    result = reconcile(SHAPE, prior, _page(left=[ANN_ID]), [], [], [], run_id=2, now=NOW)
    answers = [
        (item, RecordResult(item.key, Outcome.ERROR, "in use", transient=item.leg == 1))
        for item in result.reconciliation.stale
    ]
    settled = settle_removals(SHAPE, result, answers, run_id=2, now=NOW)
    [state] = settled.states
    assert settled.forget == [] and state.pending and state.leg_keys == [[CDS], [OLD]]
    assert state.failure is not None and state.failure.kind == "transient"
    assert settled.counts.errors == 1  # one record, two messages
    assert [e.message.split(":")[0] for e in settled.errors] == [
        "could not remove the row this record no longer maps to (ContactId 'CON-1')",
        "could not remove the row this record no longer maps to (ContactPersonId 'CON-1', "
        "AssociatedPartyNumber 'ACC-1')",
    ]


def test_backoff_is_an_hour_then_longer_and_at_least_daily() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(hours=h) for h in (1, 2, 4)]
    assert backoff(6) == backoff(60) == timedelta(days=1)


def test_which_waiting_records_a_run_retries() -> None:
    failure, _ = failed_again(None, [["leg", None, "bad"]], transient=False, run_id=1, now=NOW)
    waiting = RecordState(ANN_ID, "CON-1", [], True, failure)
    soon = NOW + timedelta(minutes=10)
    assert not due(waiting, soon, mapping_changed=False, retry_failed=False)
    assert due(waiting, soon, mapping_changed=True, retry_failed=False)
    assert due(waiting, soon, mapping_changed=False, retry_failed=True)
    assert due(waiting, NOW + timedelta(hours=1), mapping_changed=False, retry_failed=False)
    transient = RecordFailure("transient", [], 1, 1)
    assert due(
        RecordState(ANN_ID, "CON-1", [], True, transient),
        soon,
        mapping_changed=False,
        retry_failed=False,
    )
    # written ahead of a commit that never came: retried by the next run
    assert due(
        RecordState(ANN_ID, "CON-1", [], True), soon, mapping_changed=False, retry_failed=False
    )
