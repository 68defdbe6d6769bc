"""The template model: direct and two-leg tasks, and the errors a broken template gets."""

from __future__ import annotations

import pytest

from integrator.templates import parse_template
from integrator.templates.yamldoc import load_text

DIRECT = """\
name: Direct accounts
source_system: sales
destination_system: finops
tasks:
  - name: Accounts
    source_entity: accounts
    destination_entity: CustomersV2
    keys: {source: [accountnumber], destination: [dataAreaId, CustomerAccount]}
    source_to_destination:
      - {destination: CustomerAccount, source: accountnumber}
"""


def test_direct_template_has_one_leg() -> None:
    document, problems = load_text(DIRECT, "direct.yaml")
    template, problems = parse_template(document, "direct.yaml")
    assert problems == [] and template is not None
    task = template.tasks[0]
    assert task.is_direct
    legs = task.legs("sales", "finops")
    assert [(leg.title, leg.from_entity, leg.to_entity) for leg in legs] == [
        ("Source → Destination", "accounts", "CustomersV2")
    ]
    assert legs[0].rows[0].map_type == "="


def test_broken_template_reports_each_problem_with_line_and_path() -> None:
    text = DIRECT.replace("destination_system: finops", "destination_system: sap").replace(
        "      - {destination: CustomerAccount, source: accountnumber}",
        "      - {destination: CustomerAccount, source: accountnumber, colour: red}",
    )
    document, _ = load_text(text, "direct.yaml")
    template, problems = parse_template(document, "direct.yaml")
    assert template is None
    assert [str(p) for p in problems] == [
        'direct.yaml:3: template "Direct accounts", destination_system: Input should be '
        "'sales', 'cds' or 'finops'",
        'direct.yaml:10: template "Direct accounts", task Accounts, leg Source → Destination, '
        "row 1: unknown key 'colour'",
    ]


def test_direct_task_with_a_cds_leg_is_refused() -> None:
    document, _ = load_text(DIRECT + "    cds_to_destination: []\n", "direct.yaml")
    _, problems = parse_template(document, "direct.yaml")
    assert [str(p) for p in problems] == [
        'direct.yaml:5: template "Direct accounts", task Accounts: a direct task (no '
        "cds_entity) has only source_to_destination"
    ]


def test_yaml_syntax_error_points_at_the_unclosed_bracket() -> None:
    _, problems = load_text("name: x\ntasks:\n  - name: [unclosed\n", "bad.yaml")
    assert [str(p) for p in problems] == [
        "bad.yaml:3: YAML syntax error: the '[' opened on line 3 is never closed with ']', or a "
        "',' is missing between its items (line 3 reads '  - name: [unclosed')"
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "name: x\ntasks:\n\t- name: A\n",
            3,
            "a tab is not allowed for indentation: indent with spaces "
            "(line 3 reads '\\t- name: A')",
        ),
        (
            "name: x\nsource_filter accountnumber ne null\ntasks: []\n",
            2,
            "a ':' is missing after the key (write `key: value`) "
            "(line 2 reads 'source_filter accountnumber ne null')",
        ),
        (
            'name: x\ndescription: "Accounts\ntasks: []\nrequired_prior: []\n',
            2,
            "the quote opened on line 2 is never closed (line 2 reads 'description: \"Accounts')",
        ),
        (
            "name: x\ntasks:\n  - name: A\n     source_entity: accounts\n",
            4,
            "a ':' is not allowed here: put a value holding ': ' in quotes, or indent this line "
            "like the keys beside it (line 4 reads '     source_entity: accounts')",
        ),
        (
            "name: x\nname: y\ntasks: []\n",
            2,
            "the key 'name' is given twice in the same place: keep one (line 2 reads 'name: y')",
        ),
    ],
)
def test_yaml_syntax_errors_are_said_in_plain_words(text: str, line: int, message: str) -> None:
    _, problems = load_text(text, "bad.yaml")
    assert [(p.file, p.line, p.message) for p in problems] == [
        ("bad.yaml", line, f"YAML syntax error: {message}")
    ]
