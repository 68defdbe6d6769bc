"""Free-text country → ISO 3166-1 alpha-3, and the CountryRegionCode transform.

Names are looked up in :mod:`integrator.mapping.country_names`: ISO codes and English names
(pycountry), CLDR territory names in English, German, French, Spanish, Italian, Dutch,
Portuguese, Swedish, Polish, Japanese and Chinese (Babel), everyday aliases, and pycountry's
translations into many more languages. So "Deutschland", "Allemagne", "ドイツ" and "Германия"
all resolve to ``DEU``. A name that could mean two countries ("Congo", "Korea") resolves to
neither: the record fails with both candidates named, never with a guess.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import pycountry

from integrator.connectors.base import FieldInfo
from integrator.mapping.country_names import country_index
from integrator.mapping.registry import ColumnStep, SourceColumns, Transform, is_blank, register

__all__ = ["CountryRegionCode", "country_candidates", "describe_country", "resolve_country"]


@lru_cache(maxsize=65536)
def country_candidates(text: str) -> tuple[str, ...]:
    """The alpha-3 codes ``text`` may name, sorted: ``()`` when it names no ISO 3166-1
    country, one code when it names one, several when it could mean any of them."""
    return country_index().candidates(text)


def resolve_country(text: str) -> str | None:
    """The ISO 3166-1 alpha-3 code ``text`` names, or ``None`` when it names no country or
    could mean several (see :func:`country_candidates`)."""
    found = country_candidates(text)
    return found[0] if len(found) == 1 else None


def describe_country(alpha3: str) -> str:
    """``COD (Congo, The Democratic Republic of the)``: the code and its ISO name."""
    country = pycountry.countries.get(alpha_3=alpha3)
    return f"{alpha3} ({country.name})" if country is not None else alpha3


def _failure(source: str | None, value: Any, candidates: tuple[str, ...]) -> str:
    field = source or "value"
    if not candidates:
        return (
            f"{field} {value!r} is not a country ISO 3166 knows; "
            "fix it in the source or add a Default after CountryRegionCode"
        )
    *others, last = (describe_country(code) for code in candidates)
    return (
        f"{field} {value!r} could mean {', '.join(others)} or {last}; write the country's "
        "full name or ISO code in the source, or map the value with a ValueMap"
    )


@register
class CountryRegionCode(Transform):
    """Free-text country (code, English or native/foreign name) → ISO 3166-1 alpha-3.

    Text naming no country, or a name that could mean several (each named in the message),
    fails the record with the field and the value, unless a Default follows in the chain.
    """

    type_name: ClassVar[str] = "CountryRegionCode"
    example: ClassVar[str] = "CountryRegionCode"

    def compile(self, target: FieldInfo, source: str | None) -> ColumnStep:
        def step(values: list[Any], failed: dict[int, str], cols: SourceColumns) -> list[Any]:
            found: dict[Any, tuple[str, ...]] = {
                v: () if is_blank(v) else country_candidates(str(v)) for v in set(values)
            }
            out = [codes[0] if len(codes := found[v]) == 1 else None for v in values]
            refused = {v for v, codes in found.items() if len(codes) != 1 and not is_blank(v)}
            if refused:
                for i, v in enumerate(values):
                    if v in refused:
                        failed.setdefault(i, _failure(source, v, found[v]))
            return out

        return step
