"""FetchXML conditions and filters compiled to the ``$filter`` syntax tree
(``integrator.odata.ast``), and the checks every FetchXML element shares.

Operators served (FetchXML reference, condition.md and its operator-*.md includes, in
powerapps-docs/developer/data-platform/fetchxml/reference/): ``eq ne neq gt ge lt le null
not-null like not-like begins-with not-begin-with ends-with not-end-with in not-in between
not-between``. ``in``/``between`` become Or/And of comparisons. Negative operators never match
a null, as the SQL Server query Dataverse runs does not; ``like`` takes a leading and/or
trailing ``%`` (other wildcards are refused by name). Values are checked against the column's
type.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from integrator.odata.ast import And, Call, Compare, CompareOp, Expr, Field, Literal, Not, Or
from integrator.odata.parser import MAX_DEPTH
from integrator.sandbox.http.errors import ODataError
from integrator.sandbox.http.model import Property, ServedSet
from integrator.sandbox.http.values import utc_text

__all__ = [
    "INVALID_FETCH",
    "MAX_COUNT",
    "OPERATORS",
    "UNKNOWN_ATTRIBUTE",
    "attribute_property",
    "bad_fetch",
    "compile_filter",
    "flag",
    "parse_xml",
    "positive",
    "refuse_unknown",
]

INVALID_FETCH = "0x80040203"
#: an attribute the table does not have (Dataverse's QueryBuilderNoAttribute)
UNKNOWN_ATTRIBUTE = "0x80041103"
#: FetchXML's ``count``/page size ceiling ("Page results using FetchXml")
MAX_COUNT = 5000

_CONDITION_DISPLAY = {"uiname", "uitype", "uihidden"}


def bad_fetch(message: str) -> ODataError:
    """A 400 for a FetchXML document outside what the sandbox serves, naming it."""
    return ODataError(400, INVALID_FETCH, message)


def parse_xml(text: str, what: str) -> ET.Element:
    """``text`` parsed as XML with DTDs and entities refused; 400 naming ``what`` if malformed."""
    try:
        root: ET.Element = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException:
        raise bad_fetch(f"The {what} must not contain a DTD or entity declarations") from None
    except ET.ParseError as exc:
        raise bad_fetch(f"The {what} is not well-formed XML: {exc}") from None
    return root


def refuse_unknown(element: ET.Element, allowed: set[str]) -> None:
    """400 naming the first attribute of ``element`` outside ``allowed``."""
    for name in element.attrib:
        if name not in allowed:
            raise bad_fetch(
                f"The FetchXML attribute '{name}' of <{element.tag}> is not supported by the "
                "sandbox"
            )


def positive(element: ET.Element, name: str) -> int | None:
    """Attribute ``name`` of ``element`` as a positive integer (``None`` when absent)."""
    text = element.get(name)
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) < 1:
        raise bad_fetch(f"The FetchXML attribute '{name}' must be a positive integer, not '{text}'")
    return int(text)


def flag(element: ET.Element, name: str) -> bool:
    """Attribute ``name`` of ``element`` as a FetchXML boolean (``false`` when absent)."""
    text = (element.get(name) or "false").strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise bad_fetch(f"The FetchXML attribute '{name}' is 'true' or 'false', not '{text}'")
    return text in ("true", "1")


def attribute_property(served: ServedSet, name: str) -> Property:
    """The property behind FetchXML attribute ``name`` (a column's logical name; a lookup's
    logical name reads as ``_name_value``); 400 worded as Dataverse words it when unknown."""
    prop = served.properties.get(name)
    if prop is None and not name.startswith("_"):
        lookup = served.entity_set.lookup(name)
        prop = served.properties.get(f"_{lookup.name}_value") if lookup else None
    if prop is None:
        raise ODataError(
            400,
            UNKNOWN_ATTRIBUTE,
            f"'{served.entity_set.entity_type}' entity doesn't contain attribute with "
            f"Name = '{name}' and NameMapping = 'Logical'.",
        )
    return prop


def _literal(prop: Property, text: str) -> Literal:
    kind = prop.type
    try:
        if kind in ("string", "enum"):
            return Literal(text, "string")
        if kind == "integer":
            return Literal(int(text), "integer")
        if kind == "decimal":
            return Literal(float(text), "decimal")
        if kind == "boolean":
            flag = text.strip().lower()
            if flag not in ("0", "1", "true", "false"):
                raise ValueError(text)
            return Literal(flag in ("1", "true"), "boolean")
        if kind == "datetime":
            return Literal(utc_text(text.strip()), "datetime")
        if kind in ("guid", "lookup"):
            return Literal(str(uuid.UUID(text.strip().strip("{}"))), "guid")
    except ValueError:
        raise bad_fetch(
            f"The value '{text}' is not valid for attribute '{prop.name}' of type {kind}"
        ) from None
    return Literal(text, "string")


_NULL = Literal(None, "null")


def _not_null(field_: Field) -> Expr:
    return Compare("ne", field_, _NULL)


def _negated(field_: Field, expr: Expr) -> Expr:
    # SQL Server, where Dataverse runs FetchXML, never matches a null with a negative operator
    return And((_not_null(field_), Not(expr)))


def _like(field_: Field, pattern: str) -> Expr:
    starts, ends = pattern.startswith("%"), pattern.endswith("%") and len(pattern) > 1
    inner = pattern[1 if starts else 0 : len(pattern) - 1 if ends else len(pattern)]
    if any(ch in inner for ch in "%_["):
        raise bad_fetch(
            f"The like pattern '{pattern}' is not supported by the sandbox: only a leading and/or "
            "trailing % wildcard is"
        )
    text = Literal(inner, "string")
    if starts and ends:
        return Call("contains", (field_, text))
    if starts:
        return Call("endswith", (field_, text))
    if ends:
        return Call("startswith", (field_, text))
    return Compare("eq", field_, text)


def _compare(op: CompareOp) -> Callable[[Field, list[Literal]], Expr]:
    def build(field_: Field, values: list[Literal]) -> Expr:
        expr: Expr = Compare(op, field_, values[0])
        return And((expr, _not_null(field_))) if op == "ne" else expr

    return build


def _in(field_: Field, values: list[Literal]) -> Expr:
    return Or(tuple(Compare("eq", field_, v) for v in values))


def _not_in(field_: Field, values: list[Literal]) -> Expr:
    return _negated(field_, _in(field_, values))


def _between(field_: Field, values: list[Literal]) -> Expr:
    return And((Compare("ge", field_, values[0]), Compare("le", field_, values[1])))


def _not_between(field_: Field, values: list[Literal]) -> Expr:
    return _negated(field_, _between(field_, values))


def _function(name: str, negate: bool) -> Callable[[Field, list[Literal]], Expr]:
    def build(field_: Field, values: list[Literal]) -> Expr:
        value = Literal(str(values[0].value), "string")
        expr: Expr = Call(name, (field_, value))
        return _negated(field_, expr) if negate else expr

    return build


#: operator -> (how many values: 1, 0, 2 or -1 for "one or more", builder)
OPERATORS: dict[str, tuple[int, Callable[[Field, list[Literal]], Expr]]] = {
    "eq": (1, _compare("eq")),
    "ne": (1, _compare("ne")),
    "neq": (1, _compare("ne")),
    "gt": (1, _compare("gt")),
    "ge": (1, _compare("ge")),
    "lt": (1, _compare("lt")),
    "le": (1, _compare("le")),
    "null": (0, lambda f, _: Compare("eq", f, _NULL)),
    "not-null": (0, lambda f, _: _not_null(f)),
    "in": (-1, _in),
    "not-in": (-1, _not_in),
    "between": (2, _between),
    "not-between": (2, _not_between),
    "begins-with": (1, _function("startswith", False)),
    "not-begin-with": (1, _function("startswith", True)),
    "ends-with": (1, _function("endswith", False)),
    "not-end-with": (1, _function("endswith", True)),
}
_TEXT_OPERATORS = {"like", "not-like"}


def _condition(served: ServedSet, element: ET.Element) -> Expr:
    refuse_unknown(element, {"attribute", "operator", "value"} | _CONDITION_DISPLAY)
    name, operator = element.get("attribute"), element.get("operator")
    if not name or not operator:
        raise bad_fetch("A FetchXML <condition> needs an 'attribute' and an 'operator'")
    prop = attribute_property(served, name)
    field_ = Field(prop.name)
    texts = [child.text or "" for child in element if child.tag == "value"]
    for child in element:
        if child.tag != "value":
            raise bad_fetch(f"The FetchXML element <{child.tag}> is not allowed in a <condition>")
    if element.get("value") is not None:
        texts.insert(0, element.get("value") or "")
    if operator in _TEXT_OPERATORS:
        if len(texts) != 1:
            raise bad_fetch(f"The FetchXML operator '{operator}' takes one value")
        like = _like(field_, texts[0])
        return _negated(field_, like) if operator == "not-like" else like
    if operator not in OPERATORS:
        raise bad_fetch(
            f"The FetchXML condition operator '{operator}' is not supported by the sandbox"
        )
    arity, build = OPERATORS[operator]
    if (arity >= 0 and len(texts) != arity) or (arity < 0 and not texts):
        wanted = "one or more values" if arity < 0 else f"{arity} value(s)"
        raise bad_fetch(f"The FetchXML operator '{operator}' takes {wanted}, not {len(texts)}")
    return build(field_, [_literal(prop, t) for t in texts])


def compile_filter(served: ServedSet, element: ET.Element, depth: int = 1) -> Expr | None:
    """A ``<filter>`` element as an expression (``None`` when it holds no condition).

    400 when ``<filter>`` elements nest more than :data:`MAX_DEPTH` levels deep (the limit of
    ``$filter`` too), before recursing any further.
    """
    if depth > MAX_DEPTH:
        raise bad_fetch(
            f"The FetchXML nests <filter> elements more than {MAX_DEPTH} levels deep; "
            "write the conditions flatter"
        )
    refuse_unknown(element, {"type"})
    kind = element.get("type", "and")
    if kind not in ("and", "or"):
        raise bad_fetch(f"A FetchXML <filter> type is 'and' or 'or', not '{kind}'")
    items: list[Expr] = []
    for child in element:
        if child.tag == "condition":
            items.append(_condition(served, child))
        elif child.tag == "filter":
            nested = compile_filter(served, child, depth + 1)
            if nested is not None:
                items.append(nested)
        else:
            raise bad_fetch(
                f"The FetchXML element <{child.tag}> is not supported inside a <filter>"
            )
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return And(tuple(items)) if kind == "and" else Or(tuple(items))
