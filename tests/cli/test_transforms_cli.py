"""``integrator transforms`` and ``integrator --version``: what a consultant reads before editing
a mapping row, taken from the registry the validation uses."""

from __future__ import annotations

import json
from importlib.metadata import version

from ruamel.yaml import YAML
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.mapping import TransformSpec, build_transform, transform_names

runner = CliRunner()


def test_version_is_the_installed_packages() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"integrator {version('integrator')}\n"


def test_transforms_json_lists_every_registered_transform_with_its_arguments() -> None:
    result = runner.invoke(app, ["transforms", "--json"])
    assert result.exit_code == 0, result.stdout
    listed = {doc["name"]: doc for doc in json.loads(result.stdout)["transforms"]}
    assert sorted(listed) == transform_names()
    value_map = {a["name"]: a for a in listed["ValueMap"]["arguments"]}
    # one of map and file (a CSV file of the entries) is given
    assert value_map["map"]["required"] is False and value_map["file"]["required"] is False
    assert value_map["default"] == {
        "name": "default",
        "type": "text, number or boolean",
        "required": False,
        "default": None,
        "description": "written for unmatched values and blanks; none: they fail",
    }
    substring = {a["name"]: a for a in listed["Substring"]["arguments"]}
    assert (substring["start"]["type"], substring["start"]["default"]) == ("integer ≥ 0", 0)
    assert substring["length"]["type"] == "integer > 0"
    assert listed["CountryRegionCode"]["arguments"] == []


def test_every_example_is_a_step_the_registry_accepts() -> None:
    result = runner.invoke(app, ["transforms", "--json"])
    for doc in json.loads(result.stdout)["transforms"]:
        step = YAML(typ="safe").load(doc["example"])
        built = build_transform(TransformSpec.model_validate(step))
        assert built.type_name == doc["name"]


def test_transforms_text_shows_arguments_and_a_yaml_example() -> None:
    result = runner.invoke(app, ["transforms"])
    assert result.exit_code == 0
    assert "Default: The template value: written when the value so far is blank" in result.stdout
    assert "  example: transforms: [{type: Default, value: USA}]" in result.stdout
    truncate = runner.invoke(app, ["transforms", "truncate"]).stdout.splitlines()
    assert truncate[0].startswith("Truncate: Cut text to the destination field's length")
    assert truncate[1].split() == [
        "length",
        "integer",
        ">",
        "0",
        "optional",
        "characters",
        "kept;",
        "none:",
        "the",
        "destination",
        "field's",
        "length",
    ]


def test_an_unknown_transform_is_refused_with_the_known_ones() -> None:
    result = runner.invoke(app, ["transforms", "Rot13"])
    assert result.exit_code == 2
    assert "no transform named 'Rot13' (known: Concatenate, CountryRegionCode" in result.stderr
