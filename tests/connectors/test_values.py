"""One rule for "would this write change anything", for every connector, and one vocabulary for
true and false (the connectors' and the mapping's)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from integrator.connectors.base import FieldInfo, FieldType
from integrator.connectors.sql.values import ValueProblem, to_db
from integrator.connectors.values import FALSE_WORDS, TRUE_WORDS, as_boolean, same_value
from integrator.mapping.convert import ConversionFailed, convert_value

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("stored", "sent", "one_blank", "apart"),
    [
        (None, "", True, False),
        ("", None, True, False),
        ("", "", True, True),
        (None, None, True, True),
        ("Paris", "", False, False),
    ],
)
def test_blanks_compare_as_the_destination_stores_them(
    stored: Any, sent: Any, one_blank: bool, apart: bool
) -> None:
    assert same_value("string", stored, sent, blank_is_null=True) is one_blank
    assert same_value("string", stored, sent, blank_is_null=False) is apart


@pytest.mark.parametrize(
    ("type_", "stored", "sent", "same"),
    [
        ("decimal", Decimal("12.50"), 12.5, True),
        ("decimal", Decimal("12345678901234567.89"), 12345678901234567.0, False),
        ("decimal", 0.1, 0.1, True),
        ("integer", "10", 10, True),  # SQLite keeps text in an INTEGER column
        ("integer", 7, "7", True),  # a source that sends numbers as text
        ("integer", 1, 1.0, True),
        ("string", "10", 10, False),
        ("enum", 2, 2.0, True),  # an option set value
        ("enum", "Yes", "yes", True),
        (
            "guid",
            "0F8FAD5B-D9CB-469F-A165-70867728950E",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
            True,
        ),
        ("string", "O'Brien", "o'brien", False),
        ("boolean", True, 1, False),
        ("boolean", False, False, True),
        ("datetime", "2024-01-01T10:00:00Z", "2024-01-01T11:00:00+01:00", True),
        ("datetime", datetime(2024, 1, 1, 10, tzinfo=UTC), "2024-01-01T10:00:00Z", True),
        ("datetime", "2024-01-01T10:00:00", "2024-01-01T10:00:00Z", False),
        ("datetime", "2024-01-01T10:00:00Z", "not a date", False),
    ],
)
def test_values_compare_as_the_system_stores_them(
    type_: FieldType, stored: Any, sent: Any, same: bool
) -> None:
    assert same_value(type_, stored, sent, blank_is_null=False) is same
    assert same_value(type_, sent, stored, blank_is_null=True) is same


def test_one_vocabulary_for_true_and_false_in_mapping_and_sql() -> None:
    field = FieldInfo(name="active", type="boolean")
    column = sa.Boolean()
    for word in sorted(TRUE_WORDS | FALSE_WORDS):
        expected = word in TRUE_WORDS
        for text in (word, word.upper(), f" {word} "):
            assert as_boolean(text) is expected
            assert convert_value(text, field) is expected
            assert to_db("active", text, "boolean", column) is expected
    for nonsense in ("maybe", "2", "", 2):
        assert as_boolean(nonsense) is None
        with pytest.raises(ConversionFailed):
            convert_value(nonsense, field)
        with pytest.raises(ValueProblem):
            to_db("active", nonsense, "boolean", column)
