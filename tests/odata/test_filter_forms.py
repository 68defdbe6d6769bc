"""$filter: the OData forms Dataverse accepts, type checks with Dataverse's messages, Unicode case
folding, Dataverse's query functions (parsed, evaluated, compiled and rendered alike) and the
nesting limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from integrator.connectors.finops.filters import exact_part
from integrator.errors import FilterSyntaxError, FilterTypeError
from integrator.odata.filter import (
    And,
    Call,
    Compare,
    Field,
    Literal,
    Not,
    QueryFunction,
    check_types,
    evaluate,
    expand_query_functions,
    parse_filter,
    referenced_fields,
    to_odata,
    to_sqlalchemy,
)
from tests.odata.test_filter import ROWS, people  # noqa: F401  (the fixture)

TYPES = {
    "name": "string",
    "city": "string",
    "age": "integer",
    "active": "boolean",
    "score": "decimal",
    "seen": "datetime",
    "ref": "guid",
    "Flag": "enum",
}


def _contains_il() -> Call:
    return Call("contains", (Field("lastname"), Literal("il", "string")))


def test_forms_the_grammar_allows() -> None:
    assert parse_filter("contains(lastname,'il') eq true") == _contains_il()
    assert parse_filter("contains(lastname,'il') ne true") == Not(_contains_il())
    assert parse_filter("contains(lastname,'il') eq false") == Not(_contains_il())
    assert parse_filter("true eq contains(lastname,'il')") == _contains_il()
    assert parse_filter("true and false") == And(
        (Literal(True, "boolean"), Literal(False, "boolean"))
    )
    assert parse_filter("not false") == Not(Literal(False, "boolean"))
    assert parse_filter("accountrolecode lt +42") == Compare(
        "lt", Field("accountrolecode"), Literal(42, "integer")
    )
    assert parse_filter("score ge -3.5") == Compare("ge", Field("score"), Literal(-3.5, "decimal"))
    assert parse_filter("null eq lastname") == Compare(
        "eq", Literal(None, "null"), Field("lastname")
    )
    assert parse_filter("((((a eq 1))))") == Compare("eq", Field("a"), Literal(1, "integer"))
    assert parse_filter("(name) eq 'x'") == Compare("eq", Field("name"), Literal("x", "string"))
    assert parse_filter("(a eq 1) eq false") == Not(
        Compare("eq", Field("a"), Literal(1, "integer"))
    )


@pytest.mark.parametrize(
    "text", ["contains(a,'x') gt true", "contains(a,'x') eq 1", "(a eq 1) eq (b eq 2)"]
)
def test_a_condition_compares_only_with_a_boolean(text: str) -> None:
    with pytest.raises(FilterSyntaxError, match="a comparison needs a value"):
        parse_filter(text)


def test_nesting_is_limited_and_never_a_recursion_error() -> None:
    parse_filter("(" * 32 + "a eq 1" + ")" * 32)
    parse_filter("not " * 32 + "a")
    for text in ("(" * 33 + "a eq 1" + ")" * 33, "not " * 33 + "a", "(" * 50_000):
        with pytest.raises(FilterSyntaxError) as caught:
            parse_filter(text)
        assert "more than 32 levels deep" in caught.value.reason
    many = " and ".join(["a eq 1"] * 5000)  # long but flat: fine
    assert isinstance(parse_filter(many), And)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name eq 1", "Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'"),
        (
            "active eq 1",
            "Found operand types 'Edm.Boolean' and 'Edm.Int32' for operator kind 'Equal'",
        ),
        (
            "age eq '1'",
            "Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'Equal'",
        ),
        (
            "1 ne age and age lt 'x'",
            "Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'LessThan'",
        ),
        (
            "ref eq 'abc'",
            "Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'",
        ),
        ("name", "The $filter expression must evaluate to a single boolean value."),
        ("not (age)", "The $filter expression must evaluate to a single boolean value."),
        ("startswith(age, '1')", "No function signature for the function with name 'startswith'"),
        ("tolower(age) eq '1'", "No function signature for the function with name 'tolower'"),
        (
            "Microsoft.Dynamics.CRM.Between(PropertyName='age',PropertyValues=['a','9'])",
            "The value 'a' given to Microsoft.Dynamics.CRM.Between is not a valid Edm.Int32",
        ),
        (
            "Microsoft.Dynamics.CRM.On(PropertyName='age',PropertyValue='2024-01-01')",
            "compares dates, but the property 'age' is of type Edm.Int32",
        ),
    ],
)
def test_type_errors_are_worded_as_dataverse_words_them(text: str, message: str) -> None:
    with pytest.raises(FilterTypeError) as caught:
        check_types(parse_filter(text), TYPES.get)
    assert message in caught.value.reason


@pytest.mark.parametrize(
    "text",
    [
        "name eq 'x' and age gt 1.5 and score lt 3 and active and not active",
        "seen gt 2024-01-01 and seen lt 2024-01-01T10:00:00Z and ref eq null",
        "Flag eq 'Yes' and Flag eq Microsoft.Dynamics.DataEntities.NoYes'Yes'",
        "unknown eq 1 and tolower(name) eq 'x' and contains(toupper(city), 'X')",
        "Microsoft.Dynamics.CRM.In(PropertyName='age',PropertyValues=['1',2])",
        "Microsoft.Dynamics.CRM.LastXDays(PropertyName='seen',PropertyValue=7)",
    ],
)
def test_well_typed_filters_pass(text: str) -> None:
    check_types(parse_filter(text), TYPES.get)


def test_a_sql_number_field_may_stand_for_a_boolean_only_when_asked() -> None:
    expr = parse_filter("age eq true and age")
    with pytest.raises(FilterTypeError):
        check_types(expr, TYPES.get)
    check_types(expr, TYPES.get, number_fields_as_booleans=True)
    with pytest.raises(FilterTypeError):  # a boolean field compared with a number stays wrong
        check_types(parse_filter("active eq 1"), TYPES.get, number_fields_as_booleans=True)


def test_query_functions_parse_as_dataverse_writes_them() -> None:
    assert parse_filter(
        "Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=[\"O'Brian\",'x'])"
    ) == QueryFunction("In", "lastname", (Literal("O'Brian", "string"), Literal("x", "string")))
    assert parse_filter(
        "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)"
    ) == QueryFunction("LastXDays", "createdon", (Literal(7, "integer"),))
    assert parse_filter(
        "Microsoft.Dynamics.CRM.On(PropertyName='createdon',PropertyValue=2024-01-31)"
    ) == QueryFunction("On", "createdon", (Literal("2024-01-31", "date"),))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Microsoft.Dynamics.CRM.ThisYear(PropertyName='a')", "is not supported"),
        ("Microsoft.Dynamics.CRM.In(PropertyName='a',PropertyValues='b')", "must be a list"),
        ("Microsoft.Dynamics.CRM.In(PropertyName='a',PropertyValues=[])", "at least one value"),
        ("Microsoft.Dynamics.CRM.Between(PropertyName='a',PropertyValues=['1'])", "two values"),
        ("Microsoft.Dynamics.CRM.On(PropertyName='a')", "PropertyName and PropertyValue"),
        ("Microsoft.Dynamics.CRM.On(PropertyName=a,PropertyValue='2024-01-01')", "in quotes"),
        ("Microsoft.Dynamics.CRM.On(PropertyName='a',PropertyValue=['x'])", "not a list"),
    ],
)
def test_query_function_mistakes_are_named(text: str, reason: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert reason in caught.value.reason


def test_python_comparisons_fold_unicode_case() -> None:
    record = {"name": "Ñúñez-Øster", "city": "Straße", "first": "Jürgen"}
    for text in (
        "tolower(name) eq 'ñúñez-øster'",
        "first eq 'JÜRGEN'",
        "city eq 'STRASSE'",
        "contains(city, 'SS')",
        "endswith(name, 'ØSTER')",
    ):
        assert evaluate(parse_filter(text), record, case_insensitive=True), text
    assert not evaluate(parse_filter("first eq 'JÜRGEN'"), record)


NOW = datetime.now(UTC)
DATED = [
    {"id": 1, "seen": (NOW - timedelta(days=3)).isoformat(), "age": 41, "name": "O'Brien"},
    {"id": 2, "seen": (NOW - timedelta(days=30)).isoformat(), "age": 17, "name": "smith"},
    {"id": 3, "seen": (NOW + timedelta(days=2)).isoformat(), "age": None, "name": None},
    {"id": 4, "seen": None, "age": 30, "name": "SMITH"},
]
TODAY = NOW.date()
DAY = TODAY - timedelta(3)
CRM = "Microsoft.Dynamics.CRM."
QUERY_FUNCTIONS = [
    (CRM + "In(PropertyName='name',PropertyValues=['SMITH',\"O'Brien\"])", [1, 2, 4]),
    (CRM + "NotIn(PropertyName='name',PropertyValues=['smith'])", [1]),
    (CRM + "In(PropertyName='age',PropertyValues=['17',30])", [2, 4]),
    (CRM + "Between(PropertyName='age',PropertyValues=['17','30'])", [2, 4]),
    (CRM + "NotBetween(PropertyName='age',PropertyValues=[18,40])", [1, 2]),
    (CRM + "LastXDays(PropertyName='seen',PropertyValue=7)", [1]),
    (CRM + "LastXDays(PropertyName='seen',PropertyValue=31)", [1, 2]),
    (CRM + "NextXDays(PropertyName='seen',PropertyValue=3)", [3]),
    (CRM + f"On(PropertyName='seen',PropertyValue='{DAY}')", [1]),
    (CRM + f"OnOrAfter(PropertyName='seen',PropertyValue='{DAY}')", [1, 3]),
    (CRM + f"OnOrBefore(PropertyName='seen',PropertyValue='{DAY}')", [1, 2]),
    ("not " + CRM + "In(PropertyName='age',PropertyValues=[41]) and age ne null", [2, 4]),
]


def _python_ids(text: str) -> list[int]:
    expr = parse_filter(text)
    return [r["id"] for r in DATED if evaluate(expr, r, case_insensitive=True)]


@pytest.mark.parametrize(("text", "expected"), QUERY_FUNCTIONS)
def test_query_functions_evaluate_in_python(text: str, expected: list[int]) -> None:
    assert _python_ids(text) == expected


@pytest.mark.parametrize(("text", "expected"), QUERY_FUNCTIONS)
def test_query_functions_compile_to_sql_alike(text: str, expected: list[int]) -> None:
    engine = sa.create_engine("sqlite://")
    table = sa.Table(
        "dated",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seen", sa.String(40)),
        sa.Column("age", sa.Integer),
        sa.Column("name", sa.String(40)),
    )
    table.metadata.create_all(engine)
    rows = [
        {**r, "seen": None if r["seen"] is None else r["seen"].replace("+00:00", "Z")}
        for r in DATED
    ]
    expr = expand_query_functions(parse_filter(text), TYPES.get)
    # stored as the sandbox keeps them: UTC ISO text, which sorts in time order
    condition = to_sqlalchemy(expr, table.c, case_insensitive=True)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
        got = [row[0] for row in conn.execute(sa.select(table.c.id).where(condition))]
    assert sorted(got) == expected


def test_query_functions_on_postgresql_and_sqlite_match_python(people: Any) -> None:  # noqa: F811
    engine, table = people
    text = (
        "Microsoft.Dynamics.CRM.In(PropertyName='city',PropertyValues=['Dublin','Paris'])"
        " and Microsoft.Dynamics.CRM.Between(PropertyName='age',PropertyValues=['18','65'])"
    )
    condition = to_sqlalchemy(parse_filter(text), table.c, field_types=TYPES.get)
    with engine.connect() as conn:
        got = [r[0] for r in conn.execute(sa.select(table.c.id).where(condition).order_by("id"))]
    expr = parse_filter(text)
    assert got == [r["id"] for r in ROWS if evaluate(expr, r)] == [1, 5]


def test_query_functions_render_for_dataverse_and_round_trip() -> None:
    text = (
        'Microsoft.Dynamics.CRM.In(PropertyName=\'lastname\',PropertyValues=["O\'Brian","x"])'
        " and Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)"
        " and Microsoft.Dynamics.CRM.On(PropertyName='createdon',PropertyValue='2024-01-31')"
    )
    rendered = to_odata(parse_filter(text))
    assert rendered == text
    assert parse_filter(rendered) == parse_filter(text)
    assert referenced_fields(parse_filter(text)) == {"lastname", "createdon"}
    assert to_odata(parse_filter("true and not false")) == "true and not (false)"


def test_finops_never_receives_a_query_function() -> None:
    expr = parse_filter(
        "Name eq 'a' and Microsoft.Dynamics.CRM.In(PropertyName='Name',PropertyValues=['a'])"
    )
    assert exact_part(expr) == Compare("eq", Field("Name"), Literal("a", "string"))
    alone = parse_filter("Microsoft.Dynamics.CRM.In(PropertyName='Name',PropertyValues=['a','b'])")
    assert exact_part(alone) is None
    assert to_odata(alone, dialect="finops") == "Name eq 'a' or Name eq 'b'"


def test_parameter_aliases_stand_for_values() -> None:
    aliases = {"@p1": "'lastname'", "@p2": '["O\'Brian","x"]', "@n": "3"}
    expr = parse_filter(
        "Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2) and age gt @n", aliases
    )
    assert expr == And(
        (
            QueryFunction("In", "lastname", (Literal("O'Brian", "string"), Literal("x", "string"))),
            Compare("gt", Field("age"), Literal(3, "integer")),
        )
    )
    # OData URL conventions, "Parameter aliases": an alias given no value is null
    assert parse_filter("age eq @missing", {}) == Compare("eq", Field("age"), Literal(None, "null"))
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter("age eq @n", {"@n": "3 x"})
    assert "unexpected 'x' in the value of @n" in caught.value.reason
