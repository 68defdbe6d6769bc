"""CountryRegionCode over the CLDR territory names Babel ships, common English variants, and
names that could mean two countries or none."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from babel import Locale, localedata

from integrator.connectors.base import FieldInfo
from integrator.mapping import MappingRow, compile_mapping
from integrator.mapping.country import country_candidates, resolve_country
from integrator.mapping.country_names import (
    ALIASES,
    AMBIGUOUS,
    CLDR_LANGUAGES,
    CountryIndex,
    iso_countries,
    normalize,
)
from tests.mapping.country_variants import ENGLISH_VARIANTS

ISO = iso_countries()


def _cldr_names(language: str) -> dict[str, set[tuple[str, str]]]:
    """locale → {(territory name, alpha-3)} for every ISO 3166-1 country in that locale."""
    names: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for identifier in localedata.locale_identifiers():
        if identifier.split("_", 1)[0] == language:
            for code, name in Locale.parse(identifier).territories.items():
                if code in ISO:
                    names[identifier].add((name, ISO[code]))
    return names


def map_countries(values: list[Any]) -> tuple[list[Any], dict[int, str]]:
    target = FieldInfo("d", "string", max_length=3)
    mapping = compile_mapping(
        [MappingRow(destination="d", source="address1_country", transforms=["CountryRegionCode"])],
        {"d": target},
    )
    result = mapping.apply([{"address1_country": v} for v in values])
    out: list[Any] = [None] * len(values)
    for index, record in zip(result.indexes, result.records, strict=True):
        out[index] = record["d"]
    return out, {e.index: e.message for e in result.errors}


@pytest.mark.parametrize("language", CLDR_LANGUAGES)
def test_cldr_territory_names_of_every_locale_resolve_to_their_country(language: str) -> None:
    by_locale = _cldr_names(language)
    assert by_locale, f"Babel has no {language} locale"
    for identifier, names in by_locale.items():
        wrong = [(n, a) for n, a in names if resolve_country(n) not in (a, None)]
        assert wrong == [], identifier
        right = sum(resolve_country(name) == alpha3 for name, alpha3 in names)
        assert right / len(names) >= 0.99, (identifier, right, len(names))


def test_common_english_variants_resolve_and_none_to_a_wrong_country() -> None:
    assert len(ENGLISH_VARIANTS) >= 150
    wrong = [(v, a, resolve_country(v)) for v, a in ENGLISH_VARIANTS if resolve_country(v) != a]
    assert [w for w in wrong if w[2] is not None] == []
    assert 1 - len(wrong) / len(ENGLISH_VARIANTS) >= 0.98, wrong


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Trinidad & Tobago", "TTO"),
        ("Congo - Kinshasa", "COD"),
        ("Russie", "RUS"),
        ("Rusia", "RUS"),
        ("ロシア", "RUS"),
        ("イギリス", "GBR"),
        ("DR Congo", "COD"),
        ("Republic of Korea", "KOR"),
        ("Korea, Republic of", "KOR"),
        ("Südkorea", "KOR"),
        ("Corée du Sud", "KOR"),
        ("Kongo-Kinshasa", "COD"),
        ("Demokratyczna Republika Konga", "COD"),
        ("刚果（金）", "COD"),
        ("Ｕ．Ｓ．Ａ．", "USA"),
        ("Guinea", "GIN"),
        ("Danmark", "DNK"),
    ],
)
def test_names_the_old_lookup_missed(text: str, code: str) -> None:
    assert resolve_country(text) == code


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("Congo", ("COD", "COG")),
        ("Kongo", ("COD", "COG")),
        ("the Congo", ("COD", "COG")),
        ("Korea", ("KOR", "PRK")),
        ("Corée", ("KOR", "PRK")),
        ("Virgin Islands", ("VGB", "VIR")),
    ],
)
def test_a_name_of_two_countries_resolves_to_neither(
    text: str, candidates: tuple[str, ...]
) -> None:
    assert country_candidates(text) == candidates
    assert resolve_country(text) is None


def test_an_ambiguous_name_fails_the_record_naming_both_candidates() -> None:
    values, errors = map_countries(["Congo", "Korea", "Congo-Brazzaville", "Atlantis"])
    assert values == [None, None, "COG", None]
    assert errors[0] == (
        "address1_country 'Congo' could mean COD (Congo, The Democratic Republic of the) or "
        "COG (Congo); write the country's full name or ISO code in the source, or map the "
        "value with a ValueMap"
    )
    assert "could mean KOR (Korea, Republic of) or KOR" not in errors[1]
    assert "KOR (Korea, Republic of) or PRK (Korea, Democratic People's Republic of)" in errors[1]
    assert errors[3].startswith("address1_country 'Atlantis' is not a country ISO 3166 knows")
    assert set(errors) == {0, 1, 3}


@pytest.mark.parametrize(
    ("text", "code"),
    [("IS", "ISL"), ("is", "ISL"), ("ST", "STP"), ("u.s.", "USA"), ("U S A", "USA"), ("gb", "GBR")],
)
def test_codes_are_read_as_codes_and_never_as_words(text: str, code: str) -> None:
    assert resolve_country(text) == code
    assert country_candidates("Islands") == country_candidates("Saint") == ()


@pytest.mark.parametrize(
    "text",
    [
        "Europe",
        "World",
        "EU",
        "European Union",
        "Eurozone",
        "United Nations",
        "Latin America",
        "Sub-Saharan Africa",
        "Caribbean",
        "Asia",
        "Europa",
        "Welt",
        "Monde",
        "ヨーロッパ",
        "欧洲",
        "Kosovo",
        "Canary Islands",
        "Ascension Island",
        "Outlying Oceania",
        "Atlantis",
    ],
)
def test_regions_and_places_that_are_not_iso_countries_resolve_to_nothing(text: str) -> None:
    assert country_candidates(text) == ()


def test_every_hand_alias_is_one_the_data_does_not_already_give() -> None:
    without = CountryIndex(with_aliases=False)
    redundant = [a for a, code in ALIASES.items() if without.candidates(a) == (code,)]
    assert redundant == []
    iso = set(ISO.values())
    for name, codes in AMBIGUOUS.items():
        assert len(codes) >= 2 and set(codes) <= iso, name


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("España", "espana"),
        ("Việt Nam", "viet nam"),  # two marks on one Latin letter both go
        ("A\u0301\u0301B", "ab"),
        ("Ελλάδα", "ελλάδα"),  # Greek keeps its accent
        ("हिन्दी", "हिन्दी"),  # Devanagari keeps its vowel signs and virama
        ("\u0301abc", "\u0301abc"),  # a mark with no letter before it stays
        ("é\u0915\u093fa\u0301", "e\u0915\u093fa"),  # only the marks that follow Latin go
        ("ガーナ", "ガーナ"),  # Japanese voicing marks are kept (NFC recomposes them)
        ("U.S.A. & Canada", "usa and canada"),
        ("Trinidad–Tobago", "trinidad tobago"),  # punctuation of any script is a space
        ("St. Kitts & Nevis", "saint kitts and nevis"),
    ],
)
def test_normalize_drops_only_latin_accents_and_punctuation(text: str, form: str) -> None:
    assert normalize(text) == form


def test_translations_answer_only_what_the_trusted_sources_do_not_know() -> None:
    index = CountryIndex()  # a fresh one: the translations are read on its first miss
    assert index.candidates("Mexico") == ("MEX",)  # though a translation names Malaysia so
    assert index.candidates("République française") == ("FRA",)  # only a translation has it
    assert index.candidates("Paraguai") == ("PRY",)  # one translation says Nicaragua
    assert index.candidates("Samoa") == ("WSM",)
    assert index.candidates("Kongo") == ("COD", "COG")  # ambiguous, whatever translations say
    assert index.candidates("Atlantis") == ()
