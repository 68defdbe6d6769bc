"""Schedules: when a project's runs are due (:mod:`.recurrence`) and which slots have been
claimed, wait or were skipped (:mod:`.book`, in the history database)."""

from __future__ import annotations

from integrator.schedule.recurrence import describe, first_slot_after, slots_in

__all__ = ["describe", "first_slot_after", "slots_in"]
