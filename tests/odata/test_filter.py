"""$filter: parsing, errors, Python evaluation, SQL compilation and OData rendering agree."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from integrator.errors import FilterSyntaxError
from integrator.odata.filter import (
    And,
    Call,
    Compare,
    Field,
    Literal,
    Not,
    Or,
    UnknownFieldError,
    evaluate,
    parse_filter,
    referenced_fields,
    to_odata,
    to_sqlalchemy,
)

ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "O'Brien", "city": "Dublin", "age": 41, "active": True, "score": 2.5},
    {"id": 2, "name": "Müller & Söhne", "city": None, "age": 17, "active": False, "score": None},
    {"id": 3, "name": "smith", "city": "London", "age": None, "active": None, "score": 9.0},
    {"id": 4, "name": None, "city": "dublin", "age": 65, "active": True, "score": 0.0},
    {"id": 5, "name": "王小明", "city": "Paris", "age": 30, "active": False, "score": -1.5},
]

FILTERS = [
    "name eq 'O''Brien'",
    "name ne 'smith'",
    "age gt 20",
    "age ge 30 and age le 41",
    "age lt 18 or city eq null",
    "not (age gt 20)",
    "city ne null",
    "name eq null",
    "active",
    "active eq false",
    "not active",
    "contains(name, '&')",
    "startswith(name, 'O''B')",
    "endswith(name, 'th')",
    "contains(city, 'ubl')",
    "tolower(city) eq 'dublin'",
    "score ge 0 and (contains(name, 'i') or city eq 'Paris')",
    "name eq '王小明'",
    "not (city eq 'Dublin' or city eq null)",
]


def test_parse_builds_the_expected_tree() -> None:
    assert parse_filter("accountnumber ne null") == Compare(
        "ne", Field("accountnumber"), Literal(None, "null")
    )
    assert parse_filter(
        "msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true"
    ) == And(
        (
            Compare("eq", Field("msdynce_isactivecustomer"), Literal(False, "boolean")),
            Compare("eq", Field("msdynce_iscompanyanaccount"), Literal(True, "boolean")),
        )
    )
    assert parse_filter("a eq 1 or b eq 2 and not c") == Or(
        (
            Compare("eq", Field("a"), Literal(1, "integer")),
            And(
                (
                    Compare("eq", Field("b"), Literal(2, "integer")),
                    Not(Compare("eq", Field("c"), Literal(True, "boolean"))),
                )
            ),
        )
    )


def test_parse_literals() -> None:
    def right(text: str) -> Literal:
        expr = parse_filter(f"x eq {text}")
        assert isinstance(expr, Compare) and isinstance(expr.right, Literal)
        return expr.right

    assert right("'it''s'") == Literal("it's", "string")
    assert right("-12") == Literal(-12, "integer")
    assert right("3.25") == Literal(3.25, "decimal")
    assert right("2024-01-31T10:00:00Z") == Literal("2024-01-31T10:00:00Z", "datetime")
    assert right("2024-01-31") == Literal("2024-01-31", "date")
    guid = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    assert right(guid) == Literal(guid.lower(), "guid")
    assert right("Microsoft.Dynamics.DataEntities.NoYes'Yes'") == Literal(
        "Yes", "enum", enum_type="Microsoft.Dynamics.DataEntities.NoYes"
    )
    nav = parse_filter("parentcustomerid_account/accountnumber eq 'A'")
    assert isinstance(nav, Compare) and nav.left == Field("parentcustomerid_account/accountnumber")
    assert parse_filter("contains(name,'x')") == Call(
        "contains", (Field("name"), Literal("x", "string"))
    )


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty expression"),
        ("name eq", 7, "unexpected end of expression"),
        ("name eq 'abc", 8, "unexpected character"),
        ("(a eq 1", 7, "expected ')'"),
        ("a eq 1 b", 7, "unexpected 'b'"),
        ("a eq 1 and or b eq 2", 11, "unexpected 'or'"),
        ("frobnicate(a, 'x')", 0, "unknown function 'frobnicate'"),
        ("contains(a)", 0, "takes 2 argument(s), got 1"),
        ("a eq (b eq 1)", 2, "a comparison needs a value"),
        ("a # 1", 2, "unexpected character '#'"),
        ("'x'", 0, "expected a condition"),
    ],
)
def test_syntax_errors_say_where_and_what(text: str, position: int, reason: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert f"position {position}" in str(caught.value)


def _expected_ids(text: str, case_insensitive: bool = False) -> list[int]:
    expr = parse_filter(text)
    return [r["id"] for r in ROWS if evaluate(expr, r, case_insensitive=case_insensitive)]


def test_evaluate_follows_three_valued_logic() -> None:
    assert _expected_ids("age gt 20") == [1, 4, 5]
    assert _expected_ids("not (age gt 20)") == [2]  # row 3 has no age: unknown stays unknown
    assert _expected_ids("city eq null") == [2]
    assert _expected_ids("name ne 'smith'") == [1, 2, 5]  # null name is not "not smith"
    assert _expected_ids("contains(name, '&')") == [2]
    assert _expected_ids("city eq 'dublin'") == [4]
    assert _expected_ids("city eq 'dublin'", case_insensitive=True) == [1, 4]
    assert _expected_ids("active") == [1, 4]


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "people",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("city", sa.String(100)),
        sa.Column("age", sa.Integer),
        sa.Column("active", sa.Boolean),
        sa.Column("score", sa.Float),
    )


def _sql_ids(engine: sa.Engine, table: sa.Table, text: str, case_insensitive: bool) -> list[int]:
    condition = to_sqlalchemy(parse_filter(text), table.c, case_insensitive=case_insensitive)
    with engine.connect() as conn:
        query = sa.select(table.c.id).where(condition).order_by(table.c.id)
        return [row[0] for row in conn.execute(query)]


@pytest.fixture(params=["sqlite", "postgresql"])
def people(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    metadata = sa.MetaData()
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'people.db'}")
    else:
        engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
        try:
            engine.connect().close()
        except sa.exc.OperationalError as error:
            pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")
        metadata = sa.MetaData(schema="odata_filter_test")
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS odata_filter_test CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA odata_filter_test"))
    table = _table(metadata)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), ROWS)
    yield engine, table
    if request.param == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA odata_filter_test CASCADE"))
    engine.dispose()


@pytest.mark.parametrize("text", FILTERS)
@pytest.mark.parametrize("case_insensitive", [False, True])
def test_sql_selects_what_python_selects(people: Any, text: str, case_insensitive: bool) -> None:
    engine, table = people
    if case_insensitive and engine.dialect.name == "sqlite" and "王" in text:
        pytest.skip("SQLite's lower() folds ASCII only")
    assert _sql_ids(engine, table, text, case_insensitive) == _expected_ids(text, case_insensitive)


def test_values_are_bound_not_concatenated() -> None:
    table = _table(sa.MetaData())
    condition = to_sqlalchemy(parse_filter("name eq 'x''; DROP TABLE people; --'"), table.c)
    compiled = condition.compile(dialect=sa.dialects.sqlite.dialect())
    assert "DROP" not in str(compiled)
    assert "x'; DROP TABLE people; --" in compiled.params.values()


def test_unknown_field_is_named() -> None:
    table = _table(sa.MetaData())
    with pytest.raises(UnknownFieldError) as caught:
        to_sqlalchemy(parse_filter("nickname eq 'x'"), table.c)
    assert caught.value.field == "nickname"


@pytest.mark.parametrize("text", FILTERS)
def test_dataverse_rendering_round_trips(text: str) -> None:
    expr = parse_filter(text)
    assert parse_filter(to_odata(expr)) == expr


def test_finops_rendering_uses_enum_literals_and_wildcards() -> None:
    expr = parse_filter("IsExternallyMaintained eq 'Yes' and contains(OrganizationName, 'O''B')")
    text = to_odata(expr, dialect="finops", enum_types={"IsExternallyMaintained": "NoYes"})
    assert text == (
        "IsExternallyMaintained eq Microsoft.Dynamics.DataEntities.NoYes'Yes'"
        " and OrganizationName eq '*O''B*'"
    )


def test_referenced_fields() -> None:
    expr = parse_filter("a eq 1 and (contains(tolower(b), 'x') or not c/d eq null)")
    assert referenced_fields(expr) == {"a", "b", "c/d"}


_names = st.sampled_from(["name", "city", "age", "score", "active"])
_values = {
    "name": st.sampled_from(["'smith'", "'O''Brien'", "null", "'Müller & Söhne'"]),
    "city": st.sampled_from(["'Dublin'", "'Paris'", "null", "'dublin'"]),
    "age": st.sampled_from(["17", "30", "41", "null"]),
    "score": st.sampled_from(["0", "2.5", "-1.5", "null"]),
    "active": st.sampled_from(["true", "false", "null"]),
}


@st.composite
def _filters(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 2 or draw(st.booleans()):
        field = draw(_names)
        op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]))
        return f"{field} {op} {draw(_values[field])}"
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        return f"not ({draw(_filters(depth + 1))})"
    return f"({draw(_filters(depth + 1))}) {kind} ({draw(_filters(depth + 1))})"


@settings(max_examples=150, deadline=None)
@given(_filters())
def test_random_filters_agree_between_sqlite_and_python(text: str) -> None:
    engine = _SQLITE_ENGINE
    assert _sql_ids(engine, _SQLITE_TABLE, text, False) == _expected_ids(text), text


def _memory_people() -> tuple[sa.Engine, sa.Table]:
    engine = sa.create_engine("sqlite://")
    table = _table(sa.MetaData())
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), ROWS)
    return engine, table


_SQLITE_ENGINE, _SQLITE_TABLE = _memory_people()


def test_dataverse_comparison_ignores_case_and_trailing_spaces_as_sql_server_does() -> None:
    expr = parse_filter("city eq 'Dublin'")
    assert evaluate(expr, {"city": "dublin  "}, case_insensitive=True)
    assert not evaluate(expr, {"city": "  dublin"}, case_insensitive=True)  # leading ones count
    assert not evaluate(expr, {"city": "Dublin "})  # exact comparison: a space is a space


def test_a_long_or_of_keys_stays_an_index_search_in_sqlite() -> None:
    # chains beyond 50 items are grouped in parentheses; SQLite must still search each key in
    # the primary key's index (a scan would compare every row with every key)
    conn = sa.create_engine("sqlite://").raw_connection()
    conn.execute("CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO people VALUES (?, ?)", [(f"P{i}", f"n{i}") for i in range(500)])
    table = sa.table("people", sa.column("id"), sa.column("name"))
    wanted = [f"P{i}" for i in range(0, 500, 2)]
    expr = parse_filter(" or ".join(f"id eq '{key}'" for key in wanted))
    condition = to_sqlalchemy(expr, {"id": table.c.id})
    compiled = (
        sa.select(table.c.id)
        .where(condition)
        .compile(dialect=sa.dialects.sqlite.dialect(), compile_kwargs={"literal_binds": True})
    )
    sql = str(compiled)
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    assert sorted(row[0] for row in conn.execute(sql)) == sorted(wanted)
    assert plan[0] == "MULTI-INDEX OR"
    assert not any(step.startswith("SCAN") for step in plan)
