"""Keys and filters: every literal escaped, whatever characters it holds."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from integrator.connectors.http.keys import key_path, keys_filter, literal_text
from integrator.odata.filter import evaluate, parse_filter, to_odata


def test_quotes_are_doubled_and_url_specials_encoded() -> None:
    path = key_path("contacts", {"msdynce_contactnumber": "O'Brien & Sons #1/2?%"})

    assert path == "contacts(msdynce_contactnumber='O''Brien%20%26%20Sons%20%231%2F2%3F%25')"
    assert unquote(path) == "contacts(msdynce_contactnumber='O''Brien & Sons #1/2?%')"


def test_composite_keys_name_every_part_and_guids_are_bare() -> None:
    assert (
        key_path("CustomersV2", {"dataAreaId": "usmf", "CustomerAccount": "US-001"})
        == "CustomersV2(dataAreaId='usmf',CustomerAccount='US-001')"
    )
    guid = "0F8FAD5B-D9CB-469F-A165-70867728950E"
    assert key_path("accounts", {"accountid": guid}, {"accountid": "guid"}) == (
        "accounts(accountid=0f8fad5b-d9cb-469f-a165-70867728950e)"
    )


def test_literals_of_each_type() -> None:
    assert literal_text(None) == "null"
    assert literal_text(True) == "true"
    assert literal_text(12) == "12"
    assert literal_text(1.5) == "1.5"
    assert literal_text("Yes", "enum", "Microsoft.Dynamics.DataEntities.NoYes") == (
        "Microsoft.Dynamics.DataEntities.NoYes'Yes'"
    )


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6, unique=True))
def test_key_filters_match_exactly_their_keys(values: list[str]) -> None:
    expr = keys_filter(["number"], [(v,) for v in values])
    reparsed = parse_filter(to_odata(expr))

    assert all(evaluate(reparsed, {"number": v}) for v in values)
    assert not evaluate(reparsed, {"number": "".join(values) + "x"})


def test_composite_key_filters_pair_the_parts() -> None:
    expr = keys_filter(["a", "b"], [("1", "x'y"), ("2", "z")])

    assert to_odata(expr) == "(a eq '1' and b eq 'x''y') or (a eq '2' and b eq 'z')"


def test_key_parts_shared_by_every_key_are_tested_once() -> None:
    names = ["dataAreaId", "CustomerAccount"]

    assert to_odata(keys_filter(names, [("usmf", "A"), ("usmf", "B'")])) == (
        "dataAreaId eq 'usmf' and (CustomerAccount eq 'A' or CustomerAccount eq 'B''')"
    )
    assert to_odata(keys_filter(names, [("usmf", "A")])) == (
        "dataAreaId eq 'usmf' and CustomerAccount eq 'A'"
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(["usmf", "demf"]), st.text(min_size=1, max_size=5)),
        min_size=1,
        max_size=8,
    )
)
def test_composite_key_filters_match_exactly_their_keys(keys: list[tuple[str, str]]) -> None:
    expr = parse_filter(to_odata(keys_filter(["c", "n"], keys)))

    assert all(evaluate(expr, {"c": c, "n": n}) for c, n in keys)
    others = [(c, n + "x") for c, n in keys] + [("zz", n) for _, n in keys]
    assert not any(evaluate(expr, {"c": c, "n": n}) for c, n in others if (c, n) not in keys)
