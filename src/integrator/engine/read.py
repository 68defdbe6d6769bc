"""The read stage: the source's records in :class:`SourcePage`\\ s.

A source with change tracking or watermark reads is read from the task's checkpoint (from the
start on the first run, or with all data); one without is read in full every time. A
checkpoint the source no longer knows falls back to a full read, said by the page's notice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from integrator.connectors.base import Connector, FieldType, Record
from integrator.engine.pages import SourcePage
from integrator.engine.taskplan import TaskPlan
from integrator.errors import RequestRejected
from integrator.odata.filter import Compare, Expr, Field, Or, to_odata
from integrator.odata.filter import Literal as FilterLiteral

__all__ = ["RunMode", "gathered", "read_ids", "read_source", "reads_changes"]

log = logging.getLogger(__name__)

RunMode = Literal["incremental", "all-data", "rerun"]

#: keys re-read per request when retrying failed records (keeps URLs short)
_KEYS_PER_READ = 100
#: selected records gathered from source pages before a page goes through the legs (a multiple
#: of the 1000-operation ``$batch``), and at most this many source records held at once
SELECTED_PER_PAGE = 5000
RECORDS_PER_PAGE = 50000


def reads_changes(source: Connector) -> bool:
    """Whether ``source`` can be read from a checkpoint (changes only)."""
    caps = source.capabilities
    return caps.change_tracking or caps.watermark_reads


def read_source(
    plan: TaskPlan, source: Connector, mode: RunMode, checkpoint: str | None
) -> Iterator[SourcePage]:
    """The task's source pages: changes since ``checkpoint`` when the source tracks them (all
    records with ``all-data`` or without a checkpoint), else every record the filter selects."""
    entity = plan.task.source_entity
    if not reads_changes(source):
        for records in source.read(entity, plan.source_fields, filter=plan.task.source_filter):
            yield SourcePage(records, full_read=True)
        return
    start = None if mode == "all-data" else checkpoint
    try:
        yield from _changes(plan, source, start, notice=None)
    except RequestRejected as error:
        if error.code != "checkpoint-expired" or start is None:
            raise
        notice = (
            f"task {plan.name}: the source no longer knows the change-tracking checkpoint "
            "(it expired); all data was read instead"
        )
        log.warning(notice)
        yield from _changes(plan, source, None, notice=notice)


def _changes(
    plan: TaskPlan, source: Connector, checkpoint: str | None, *, notice: str | None
) -> Iterator[SourcePage]:
    full = checkpoint is None
    for batch in source.read_changes(
        plan.task.source_entity, plan.source_fields, checkpoint=checkpoint
    ):
        deleted = [plan.codec.source_id(key) for key in batch.deleted]
        yield SourcePage(batch.records, deleted, batch.checkpoint, full_read=full, notice=notice)
        notice = None


def read_ids(plan: TaskPlan, source: Connector, source_ids: Sequence[str]) -> Iterator[SourcePage]:
    """Pages of the source records with the given ids (filter not applied, so records that
    left the selection are seen), each with the ids the source no longer has as deleted."""
    codec = plan.codec
    for start in range(0, len(source_ids), _KEYS_PER_READ):
        chunk = list(source_ids[start : start + _KEYS_PER_READ])
        alternatives: list[Expr] = [
            _equals(name, value, codec.id_types.get(name))
            for source_id in chunk
            for name, value in codec.id_values(source_id).items()
        ]
        expr: Expr = alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))
        found: list[Record] = []
        entity = plan.task.source_entity
        for page in source.read(entity, plan.source_fields, filter=to_odata(expr)):
            found.extend(page)
        present = {codec.source_id(r) for r in found}
        yield SourcePage(found, [i for i in chunk if i not in present])


def gathered(plan: TaskPlan, pages: Iterator[SourcePage]) -> Iterator[SourcePage]:
    """Source pages joined and cut so that each holds exactly :data:`SELECTED_PER_PAGE` records
    the task selects (the last fewer), and so every write request downstream goes out full (a
    filter that keeps a third of a 5000-record page would otherwise send a 1000 and a 700, and
    a joined page of 5,600 a 600). A source page cut in two gives its checkpoint and deleted ids
    to the part holding its end: the checkpoint given with a page is the newest whose records
    are all in it or in earlier pages (``None`` when no source page ended in it). At most
    :data:`RECORDS_PER_PAGE` source records are held, whatever the filter keeps."""
    joined: SourcePage | None = None
    chosen: list[bool] = []
    selected = 0
    for page in pages:
        answers = [plan.selected(record) for record in page.records]
        start = 0
        while True:
            if joined is None:
                chosen = []  # the filter's answers, kept for the map stage
                joined = SourcePage([], full_read=page.full_read, selection=chosen)
            cut = _cut(answers, start, SELECTED_PER_PAGE - selected)
            if cut is None:
                break
            joined.records.extend(page.records[start:cut])
            chosen.extend(answers[start:cut])
            joined.full_read = page.full_read
            if start == 0 and page.notice is not None:
                joined.notice = page.notice
            yield joined
            joined, selected, start = None, 0, cut
        if start == 0 and page.notice is not None:
            joined.notice = page.notice
        joined.records.extend(page.records[start:])
        joined.deleted.extend(page.deleted)
        joined.full_read = page.full_read
        if page.checkpoint is not None:
            joined.checkpoint = page.checkpoint
        chosen.extend(answers[start:])
        selected += sum(answers[start:])
        if selected >= SELECTED_PER_PAGE or len(joined.records) >= RECORDS_PER_PAGE:
            yield joined
            joined, selected = None, 0
    if joined is not None and (
        joined.records or joined.deleted or joined.checkpoint is not None or joined.notice
    ):
        yield joined


def _cut(answers: list[bool], start: int, wanted: int) -> int | None:
    """The index just after the ``wanted``-th selected answer from ``start`` when records
    follow it in this page (so the page is cut there), else ``None``."""
    count = 0
    for index in range(start, len(answers)):
        if answers[index]:
            count += 1
            if count == wanted:
                return index + 1 if index + 1 < len(answers) else None
    return None


def _equals(name: str, value: Any, field_type: FieldType | None) -> Compare:
    if value is None:
        return Compare("eq", Field(name), FilterLiteral(None, "null"))
    if field_type == "guid":
        return Compare("eq", Field(name), FilterLiteral(str(value).lower(), "guid"))
    if isinstance(value, bool):
        return Compare("eq", Field(name), FilterLiteral(value, "boolean"))
    if isinstance(value, int):
        return Compare("eq", Field(name), FilterLiteral(value, "integer"))
    return Compare("eq", Field(name), FilterLiteral(str(value), "string"))
