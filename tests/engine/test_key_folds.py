"""A leg's keys folded all at once are the keys folded one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrator.connectors.base import KeyCollation
from integrator.engine.taskplan import fold_key, fold_keys

KEYS = [
    {"dataAreaId": "USMF", "CustomerAccount": "CON-1"},
    {"CustomerAccount": "con-1  ", "dataAreaId": "usmf"},
    {"dataAreaId": "USMF", "CustomerAccount": "JÜRGEN"},
    {"dataAreaId": "usmf", "CustomerAccount": "jürgen"},
    {"dataAreaId": "USMF", "CustomerAccount": 7},
    {"dataAreaId": "USMF", "CustomerAccount": Decimal("7.50")},
]


@pytest.mark.parametrize("collation", ["dynamics", "exact"])
def test_folded_together_as_one_by_one(collation: KeyCollation) -> None:
    assert fold_keys(KEYS, collation) == [fold_key(key, collation) for key in KEYS]


def test_dynamics_takes_case_and_trailing_spaces_for_one_key() -> None:
    folds = fold_keys(KEYS, "dynamics")
    assert folds[0] == folds[1]
    assert folds[2] == folds[3]
    assert len(set(fold_keys(KEYS, "exact"))) == len(KEYS)


def test_no_keys() -> None:
    assert fold_keys([], "dynamics") == []
