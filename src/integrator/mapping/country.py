"""Free-text country → ISO 3166-1 alpha-3, and the CountryRegionCode transform.

Resolution uses pycountry's ISO 3166-1 data: alpha-2 and alpha-3 codes, the short, official and
common English names, and every translation pycountry ships as gettext catalogues, so
"Deutschland", "Allemagne" and "Германия" all resolve to ``DEU``. Text is compared after
case-folding, removing accents, punctuation and extra spaces ("U.S." → "us").
"""

from __future__ import annotations

import gettext
import os
import re
import unicodedata
from functools import cache
from typing import Any, ClassVar

import pycountry

from integrator.connectors.base import FieldInfo
from integrator.mapping.registry import ColumnStep, SourceColumns, Transform, is_blank, register

__all__ = ["CountryRegionCode", "resolve_country"]

#: everyday names ISO does not list (English usage a consultant meets in address data)
_ALIASES: dict[str, str] = {
    "uk": "GBR",
    "great britain": "GBR",
    "britain": "GBR",
    "england": "GBR",
    "scotland": "GBR",
    "wales": "GBR",
    "northern ireland": "GBR",
    "america": "USA",
    "united states of america": "USA",
    "the united states": "USA",
    "holland": "NLD",
    "the netherlands": "NLD",
    "russia": "RUS",
    "czech republic": "CZE",
    "ivory coast": "CIV",
    "burma": "MMR",
    "swaziland": "SWZ",
    "macedonia": "MKD",
    "turkey": "TUR",
    "korea": "KOR",
    "north korea": "PRK",
    "laos": "LAO",
    "syria": "SYR",
    "vatican": "VAT",
    "uae": "ARE",
    "prc": "CHN",
    "roc": "TWN",
    "drc": "COD",
    # the Russian short name; pycountry translates only "Russian Federation"
    "россия": "RUS",
}

_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


def _normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # "U.S." and "U. S. A." must meet "us" and "usa": drop dots between single letters first.
    stripped = re.sub(r"(?<=\b\w)\.\s*(?=\w\b)", "", stripped)
    return _PUNCTUATION.sub(" ", stripped).strip()


@cache
def _index() -> dict[str, str]:
    """Normalized name or code → alpha-3; English first so a translation never overrides it."""
    index: dict[str, str] = {}

    def add(name: str | None, alpha3: str) -> None:
        if name:
            index.setdefault(_normalize(name), alpha3)

    countries = list(pycountry.countries)
    for c in countries:
        add(c.alpha_3, c.alpha_3)
        add(c.alpha_2, c.alpha_3)
    for c in countries:
        for attr in ("name", "official_name", "common_name"):
            add(getattr(c, attr, None), c.alpha_3)
    for alias, alpha3 in _ALIASES.items():
        add(alias, alpha3)
    for language in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            catalogue = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
            )
        except OSError:
            continue
        for c in countries:
            for attr in ("name", "official_name", "common_name"):
                english = getattr(c, attr, None)
                if english:
                    translated = catalogue.gettext(english)
                    if translated != english:
                        add(translated, c.alpha_3)
    return index


@cache
def resolve_country(text: str) -> str | None:
    """The ISO 3166-1 alpha-3 code ``text`` names, or ``None`` when it names no country."""
    key = _normalize(text)
    if not key:
        return None
    index = _index()
    found = index.get(key)
    if found is None and key.startswith("the "):
        found = index.get(key[4:])
    return found


@register
class CountryRegionCode(Transform):
    """Free-text country (code, English or native/foreign name) → ISO 3166-1 alpha-3.

    Text naming no country fails the record with the field and the value, unless a Default
    follows in the chain.
    """

    type_name: ClassVar[str] = "CountryRegionCode"

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
            codes: dict[Any, str | None] = {}
            for v in set(values):
                codes[v] = None if is_blank(v) else resolve_country(str(v))
            out = [codes[v] for v in values]
            unresolved = {v for v, code in codes.items() if code is None and not is_blank(v)}
            if unresolved:
                for i, v in enumerate(values):
                    if v in unresolved:
                        failed.setdefault(
                            i,
                            f"{source or 'value'} {v!r} is not a country ISO 3166 knows; "
                            "fix it in the source or add a Default after CountryRegionCode",
                        )
            return out

        return step
