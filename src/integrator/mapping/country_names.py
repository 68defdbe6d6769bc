"""The index behind CountryRegionCode: every name of every ISO 3166-1 country, normalized.

Sources, most trusted first:

1. ISO 3166-1 itself (pycountry): alpha-2 and alpha-3 codes (looked up apart from names),
   short, official and common English names.
2. CLDR territory names (the Unicode Common Locale Data Repository, as Babel ships it) of every
   Babel locale of :data:`CLDR_LANGUAGES`: "Trinidad & Tobago", "Congo - Kinshasa", "Russie",
   "ロシア", "英国". CLDR also names regions ("Europe", "World", "EU") and places that are not
   ISO 3166-1 countries ("Kosovo", "Canary Islands"): only codes ISO 3166-1 has count.
3. :data:`ALIASES`: everyday English a consultant meets in address data that neither ISO nor
   Babel's CLDR tables hold (Babel keeps no ``-alt-short`` / ``-alt-variant`` names, so
   CLDR's "UK", "Ivory Coast", "Czech Republic", "Turkey" are here).
4. pycountry's gettext translations of the ISO names (many more languages, less reliable: a
   translation that contradicts sources 1–3 is ignored).

A name that belongs to two countries (in the sources or in :data:`AMBIGUOUS`: "Congo",
"Korea") resolves to neither: its candidates are returned so the caller can name both.
"""

from __future__ import annotations

import gettext
import os
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache

import pycountry
from babel import Locale, localedata

__all__ = [
    "ALIASES",
    "AMBIGUOUS",
    "CLDR_LANGUAGES",
    "CountryIndex",
    "cldr_territory_names",
    "country_index",
    "iso_countries",
    "normalize",
    "spellings",
]

#: languages whose CLDR territory names are indexed (every Babel locale of each: en_GB, fr_CA..)
CLDR_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "sv", "pl", "ja", "zh")

#: everyday names ISO and Babel's CLDR data do not hold (normalized form is computed)
ALIASES: dict[str, str] = {
    # CLDR's English -alt-short / -alt-variant names, which Babel drops (those pycountry or
    # another CLDR language does not already give)
    "UK": "GBR",
    "Bosnia": "BIH",
    "Congo (DRC)": "COD",
    "Ivory Coast": "CIV",
    "Turkey": "TUR",
    "East Timor": "TLS",
    "Palestine": "PSE",
    "Falkland Islands (Islas Malvinas)": "FLK",
    # English usage in address data
    "Great Britain": "GBR",
    "Britain": "GBR",
    "England": "GBR",
    "Scotland": "GBR",
    "Wales": "GBR",
    "Northern Ireland": "GBR",
    "America": "USA",
    "Macedonia": "MKD",
    "UAE": "ARE",
    "KSA": "SAU",
    "PRC": "CHN",
    "Mainland China": "CHN",
    "ROC": "TWN",
    "DRC": "COD",
    "DR Congo": "COD",
    "DPRK": "PRK",
    "ROK": "KOR",
    "Republic of Ireland": "IRL",
    "West Bank and Gaza": "PSE",
    "St. Barths": "BLM",
    "Saint Vincent": "VCT",
    "Turks and Caicos": "TCA",
    "Bonaire": "BES",
    "FYROM": "MKD",
    # World Bank style, as exported by many ERPs
    "Venezuela, RB": "VEN",
    "Lao PDR": "LAO",
    # the Russian short name; pycountry translates only "Russian Federation"
    "Россия": "RUS",
}

#: names that mean more than one country: any of them would be a guess
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "Congo": ("COD", "COG"),
    "Kongo": ("COD", "COG"),
    "Korea": ("KOR", "PRK"),
    "Corée": ("KOR", "PRK"),
    "Corea": ("KOR", "PRK"),
    "Coreia": ("KOR", "PRK"),
    "Virgin Islands": ("VGB", "VIR"),
}

#: abbreviations spelled out, so "St. Lucia" meets "Saint Lucia" and "Dem. Rep." meets the rest
_WORDS = {
    "st": "saint",
    "ste": "sainte",
    "rep": "republic",
    "dem": "democratic",
    "fed": "federated",
    "sts": "states",
}
#: English words a name is the same without: "Republic of the Congo" meets "Congo, Rep."
_FILLERS = frozenset({"the", "of"})
_DOTTED_INITIALS = re.compile(r"(?<=\b\w)\.\s*(?=\w\b)")
_ASCII_OTHER = re.compile(r"[^a-z0-9]+")
_CODE_SEPARATORS = re.compile(r"[\s.]+")
_PARENTHESIS = re.compile(r"^(.*?)\((.*?)\)(.*)$")


#: Latin letters (and ASCII), after which combining marks are accents to drop
_LATIN = r"\x00-\u024f\u1e00-\u1eff"
#: a run of non-Latin characters right after a Latin one: its leading marks are accents
_AFTER_LATIN = re.compile(f"(?<=[{_LATIN}])[^{_LATIN}]+")


def _drop_leading_marks(match: re.Match[str]) -> str:
    run = match.group()
    start = 0
    while start < len(run) and unicodedata.combining(run[start]):
        start += 1
    return run[start:]


class _LettersOrSpace(dict[int, str]):
    """A ``str.translate`` table keeping letters, marks and numbers, every other character
    read as a space; each character's category looked up once."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        kept = char if unicodedata.category(char)[0] in "LMN" else " "
        self[code] = kept
        return kept


_LETTERS_OR_SPACE = _LettersOrSpace()


def normalize(text: str) -> str:
    """The form names are compared in: case-folded, Latin accents removed ("España" → "espana";
    marks of other scripts are kept: Devanagari vowel signs, Japanese voicing marks), dotted
    initials joined ("U.S.A." → "usa"), "&" read as "and", punctuation as spaces, the words
    "the" and "of" dropped, and common abbreviations spelled out ("St." → "saint")."""
    folded = text.casefold()
    if folded.isascii():
        spaced = _ASCII_OTHER.sub(" ", _DOTTED_INITIALS.sub("", folded).replace("&", " and "))
    else:
        unaccented = _AFTER_LATIN.sub(_drop_leading_marks, unicodedata.normalize("NFKD", folded))
        joined = _DOTTED_INITIALS.sub("", unicodedata.normalize("NFC", unaccented))
        spaced = joined.replace("&", " and ").translate(_LETTERS_OR_SPACE)
    return " ".join(_WORDS.get(word, word) for word in spaced.split() if word not in _FILLERS)


def spellings(text: str, *, bare: bool = False) -> Iterator[str]:
    """The normalized forms ``text`` may be read as, in the order to try them: as written;
    an inverted "Korea, Republic of" as "Republic of Korea"; "Korea (Republic of)" as
    "Republic of Korea", and with ``bare`` as "Korea" alone (only for ISO's own names: a
    qualifier in free text may be what tells two countries apart)."""
    seen: set[str] = set()
    candidates = [text]
    if text.count(",") == 1:
        before, after = text.split(",")
        candidates.append(f"{after} {before}")
    match = _PARENTHESIS.match(text)
    if match:
        outside = f"{match.group(1)} {match.group(3)}"
        candidates.append(f"{match.group(2)} {outside}")
        if bare:
            candidates.append(outside)
    for candidate in candidates:
        key = normalize(candidate)
        if key and key not in seen:
            seen.add(key)
            yield key


def iso_countries() -> dict[str, str]:
    """Alpha-2 → alpha-3 of every ISO 3166-1 country."""
    return {c.alpha_2: c.alpha_3 for c in pycountry.countries}


def cldr_territory_names(languages: Iterable[str] = CLDR_LANGUAGES) -> Iterator[tuple[str, str]]:
    """(territory code, name) of every territory name of every Babel locale of ``languages``;
    regions ("150": Europe) and codes ISO 3166-1 does not have ("XK", "EU") included."""
    wanted = set(languages)
    for identifier in sorted(localedata.locale_identifiers()):
        if identifier.split("_", 1)[0] not in wanted:
            continue
        yield from Locale.parse(identifier).territories.items()


def _english_names(country: object) -> Iterator[str]:
    for attribute in ("name", "official_name", "common_name"):
        value = getattr(country, attribute, None)
        if value:
            yield value


def _pycountry_translations() -> Iterator[tuple[str, str]]:
    # pycountry's attribute lookups are slow: read each country's names once, not per language
    names = [
        (english, country.alpha_3)
        for country in pycountry.countries
        for english in _english_names(country)
    ]
    for language in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            catalogue = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
            )
        except OSError:
            continue
        for english, alpha3 in names:
            translated = catalogue.gettext(english)
            if translated != english:
                yield translated, alpha3


def _add(table: dict[str, set[str]], name: str, alpha3: str, bare: bool = False) -> None:
    # only ISO's own names stand without their parenthesis ("Holy See (Vatican City State)"):
    # CLDR's "Saint-Martin (partie néerlandaise)" is Sint Maarten, while "Saint-Martin" alone
    # is the French part
    for key in spellings(name, bare=bare):
        table[key].add(alpha3)


def _settled(table: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(sorted(codes)) for key, codes in table.items()}


class CountryIndex:
    """Normalized name → the alpha-3 codes it may mean; built once, looked up per value.

    The trusted sources (1–3) are indexed up front; pycountry's translations (4), two thirds
    of the work, only when a text's spelling is not among them. A name in both means what
    the trusted sources say, so the answer is the same as from one merged index.
    """

    def __init__(self, *, with_aliases: bool = True) -> None:
        iso = iso_countries()
        trusted: dict[str, set[str]] = defaultdict(set)
        #: codes apart from names: "IS" is Iceland, "ST" São Tomé, yet "St." is "saint"
        self._codes = {
            code.casefold(): country.alpha_3
            for country in pycountry.countries
            for code in (country.alpha_2, country.alpha_3)
        }
        for country in pycountry.countries:
            for name in _english_names(country):
                _add(trusted, name, country.alpha_3, bare=True)
        for code, name in set(cldr_territory_names()):
            if code in iso:
                _add(trusted, name, iso[code])
        if with_aliases:
            for alias, alpha3 in ALIASES.items():
                trusted[normalize(alias)].add(alpha3)
        known = _settled(trusted)
        if with_aliases:
            for name, codes in AMBIGUOUS.items():
                known[normalize(name)] = tuple(sorted(codes))
        self._known = known
        self._translated: dict[str, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    def _translations(self) -> dict[str, tuple[str, ...]]:
        with self._lock:
            if self._translated is None:
                translated: dict[str, set[str]] = defaultdict(set)
                for name, alpha3 in set(_pycountry_translations()):
                    _add(translated, name, alpha3)
                self._translated = _settled(translated)
            return self._translated

    def candidates(self, text: str) -> tuple[str, ...]:
        """The alpha-3 codes ``text`` may name, sorted: none, one, or several (ambiguous).

        An alpha-2 or alpha-3 code ("DE", "u.s.", "USA") is read as a code; otherwise the
        first spelling of :func:`spellings` the index knows decides.
        """
        code = _CODE_SEPARATORS.sub("", text).casefold()
        if 2 <= len(code) <= 3 and code in self._codes:
            return (self._codes[code],)
        for key in spellings(text):
            found = self._known.get(key) or self._translations().get(key)
            if found:
                return found
        return ()


@cache
def country_index() -> CountryIndex:
    """The shared index (built on first use)."""
    return CountryIndex()
