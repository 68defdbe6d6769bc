"""Golden tests for every transform, through a compiled mapping as the engine uses it."""

from __future__ import annotations

from typing import Any

import pytest

from integrator.connectors.base import FieldInfo
from integrator.errors import ConfigError
from integrator.mapping import MappingRow, compile_mapping, resolve_country, transform_names


def map_column(values: list[Any], transforms: list[Any], field: FieldInfo | None = None) -> Any:
    """Map one source column ``s`` into destination ``d``; return (values, errors by index)."""
    target = field or FieldInfo("d", "string", max_length=100)
    mapping = compile_mapping(
        [MappingRow(destination=target.name, source="s", transforms=transforms)],
        {target.name: target},
    )
    result = mapping.apply([{"s": v} for v in values])
    out: list[Any] = [None] * len(values)
    for index, record in zip(result.indexes, result.records, strict=True):
        out[index] = record[target.name]
    return out, {e.index: e.message for e in result.errors}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("United States", "USA"),
        ("U.S.", "USA"),
        ("U.S.A.", "USA"),
        ("USA", "USA"),
        ("us", "USA"),
        ("  united states of america ", "USA"),
        ("Deutschland", "DEU"),
        ("Allemagne", "DEU"),
        ("Germany", "DEU"),
        ("DE", "DEU"),
        ("Германия", "DEU"),
        ("ドイツ", "DEU"),
        ("德国", "DEU"),
        ("Österreich", "AUT"),
        ("OSTERREICH", "AUT"),
        ("España", "ESP"),
        ("Espana", "ESP"),
        ("Schweiz", "CHE"),
        ("Suisse", "CHE"),
        ("UK", "GBR"),
        ("Great Britain", "GBR"),
        ("The Netherlands", "NLD"),
        ("Nederland", "NLD"),
        ("South Korea", "KOR"),
        ("대한민국", "KOR"),
        ("日本", "JPN"),
        ("Côte d’Ivoire", "CIV"),
        ("Россия", "RUS"),
    ],
)
def test_country_names_in_any_language_resolve_to_alpha3(text: str, code: str) -> None:
    assert resolve_country(text) == code


def test_country_region_code_maps_a_messy_column_and_reports_unknown_values() -> None:
    values, errors = map_column(
        ["United States", "Allemagne", None, "", "Atlantis", "fr"],
        [{"type": "CountryRegionCode"}],
        FieldInfo("d", "string", max_length=3),
    )
    assert values == ["USA", "DEU", None, None, None, "FRA"]
    assert list(errors) == [4]
    assert "s 'Atlantis' is not a country ISO 3166 knows" in errors[4]


def test_default_after_country_region_code_catches_unknown_and_blank() -> None:
    values, errors = map_column(
        ["Atlantis", None, " ", "Deutschland"],
        ["CountryRegionCode", {"type": "Default", "value": "USA"}],
    )
    assert values == ["USA", "USA", "USA", "DEU"]
    assert errors == {}


def test_default_fills_blank_and_absent_but_keeps_values() -> None:
    values, errors = map_column(["x", None, "", "   ", 0], [{"type": "Default", "value": "d"}])
    assert values == ["x", "d", "d", "d", "0"]
    assert errors == {}


def test_row_without_source_writes_only_its_default() -> None:
    target = FieldInfo("CustomerGroupId", "string", max_length=10)
    mapping = compile_mapping(
        [MappingRow(destination="CustomerGroupId", transforms=[{"type": "Default", "value": 10}])],
        {"CustomerGroupId": target},
    )
    assert mapping.apply([{"other": 1}, {}]).records == [
        {"CustomerGroupId": "10"},
        {"CustomerGroupId": "10"},
    ]
    assert mapping.source_fields == ()


def test_value_map_is_case_insensitive_with_blank_and_unmatched_defaults() -> None:
    transforms = [{"type": "ValueMap", "map": {"us": "US", "Germany": "DE", "": "XX"}}]
    values, errors = map_column(["US", "germany ", None, "France"], transforms)
    assert values == ["US", "DE", "XX", None]
    assert "'France' from s is not in the value map" in errors[3]

    with_default = [{"type": "ValueMap", "map": {"us": "US"}, "default": "ZZ"}]
    values, errors = map_column(["Us", "France", None], with_default)
    assert values == ["US", "ZZ", "ZZ"]
    assert errors == {}


def test_value_map_matches_numbers_written_as_text_keys() -> None:
    role = FieldInfo("d", "enum", enum_values=("DecisionMaker", "Employee", "Influencer"))
    transforms = [{"type": "ValueMap", "map": {1: "DecisionMaker", 2: "Employee", 3: "Influencer"}}]
    values, errors = map_column([1, "2", 3.0, None, 4], transforms, role)
    assert values == ["DecisionMaker", "Employee", "Influencer", None, None]
    assert list(errors) == [4]


def test_truncate_cuts_to_the_destination_length() -> None:
    field = FieldInfo("d", "string", max_length=5)
    values, errors = map_column(["abcdefgh", "abc", None, "Привет, мир"], ["Truncate"], field)
    assert values == ["abcde", "abc", None, "Приве"]
    assert errors == {}


def test_without_truncate_an_overlong_value_is_a_record_error() -> None:
    values, errors = map_column(["abcdefgh", "ok"], [], FieldInfo("d", "string", max_length=5))
    assert values == [None, "ok"]
    assert "'abcdefgh' is 8 characters long; d holds at most 5 (add a Truncate)" in errors[0]


def test_text_transforms() -> None:
    assert map_column([" Ab ", None], ["Trim"])[0] == ["Ab", None]
    assert map_column(["Ab"], ["Upper"])[0] == ["AB"]
    assert map_column(["Ab"], ["Lower"])[0] == ["ab"]
    assert map_column(["abcdef"], [{"type": "Substring", "start": 1, "length": 3}])[0] == ["bcd"]
    split = [{"type": "Split", "separator": ",", "index": 1}]
    assert map_column(["Springfield, IL", "nocomma"], split)[0] == ["IL", None]


def test_concatenate_joins_other_fields_skipping_blanks() -> None:
    target = FieldInfo("FullName", "string", max_length=100)
    mapping = compile_mapping(
        [
            MappingRow(
                destination="FullName",
                source="firstname",
                transforms=[{"type": "Concatenate", "fields": ["middlename", "lastname"]}],
            )
        ],
        {"FullName": target},
    )
    batch = [
        {"firstname": "Ada", "middlename": None, "lastname": "Lovelace"},
        {"firstname": " Иван ", "middlename": "Петрович", "lastname": "Сидоров"},
    ]
    assert [r["FullName"] for r in mapping.apply(batch).records] == [
        "Ada Lovelace",
        "Иван Петрович Сидоров",
    ]
    assert mapping.source_fields == ("firstname", "middlename", "lastname")


def test_date_format_rewrites_dates_and_reports_garbage() -> None:
    transforms = [{"type": "DateFormat", "format": "%d.%m.%Y"}]
    values, errors = map_column(["2024-02-29T10:00:00Z", "2024-03-01", "yesterday"], transforms)
    assert values == ["29.02.2024", "01.03.2024", None]
    assert "'yesterday' from s is not a date (ISO 8601)" in errors[2]


def test_unknown_transform_and_bad_parameters_are_refused_at_compile() -> None:
    field = {"d": FieldInfo("d", "string")}
    with pytest.raises(ConfigError) as caught:
        compile_mapping(
            [
                MappingRow(destination="d", source="s", transforms=[{"type": "Rot13"}]),
                MappingRow(destination="x", source="s", transforms=[{"type": "ValueMap"}]),
            ],
            field,
        )
    text = str(caught.value)
    assert "unknown transform 'Rot13' (known: " in text and "CountryRegionCode" in text
    assert "field 'x' does not exist" in text
    assert "ValueMap: give 'map' (the entries) or 'file' (a CSV file of them)" in text


def test_registry_lists_the_shipped_transforms() -> None:
    assert {"Default", "ValueMap", "Truncate", "CountryRegionCode", "Concatenate"} <= set(
        transform_names()
    )
