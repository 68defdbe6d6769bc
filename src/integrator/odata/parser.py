"""Parse OData ``$filter`` text into the syntax tree of :mod:`integrator.odata.ast`.

The grammar is the part of OData v4 (ABNF: ``boolCommonExpr`` in OData v4.01 Part 2, URL
Conventions) that Dataverse and F&O filters use::

    expr    := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | compare
    compare := operand (("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand)?
    operand := "(" expr ")" | call | query-function | literal | field

A bare boolean operand (``msdynce_isactivecustomer``) means ``... eq true``; ``true`` and
``false`` are conditions of their own (``true and false``, ``not false``), and a condition may be
compared with a boolean (``contains(lastname,'il') eq true``). Numbers may carry a sign
(``-3``, ``+42``). Dataverse's query functions are written with their namespace:
``Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=['a','b'])``.

Whether the operands' types fit is checked afterwards, against the entity's properties, by
:mod:`integrator.odata.types`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from integrator.errors import FilterSyntaxError
from integrator.odata.ast import (
    And,
    Call,
    Compare,
    CompareOp,
    Expr,
    Field,
    Literal,
    Not,
    Operand,
    Or,
    QueryFunction,
)

__all__ = [
    "BOOLEAN_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_FUNCTION_DEPTH",
    "QUERY_FUNCTIONS",
    "QUERY_FUNCTION_NAMESPACE",
    "VALUE_FUNCTIONS",
    "parse_filter",
]

BOOLEAN_FUNCTIONS = {"contains": 2, "startswith": 2, "endswith": 2}
VALUE_FUNCTIONS = {"tolower": 1, "toupper": 1, "trim": 1}
QUERY_FUNCTION_NAMESPACE = "Microsoft.Dynamics.CRM"
#: the Dataverse query functions integrator understands, and the parameter each takes
QUERY_FUNCTIONS: dict[str, str] = {
    "In": "PropertyValues",
    "NotIn": "PropertyValues",
    "Between": "PropertyValues",
    "NotBetween": "PropertyValues",
    "On": "PropertyValue",
    "OnOrAfter": "PropertyValue",
    "OnOrBefore": "PropertyValue",
    "LastXDays": "PropertyValue",
    "NextXDays": "PropertyValue",
}
#: how deep parentheses, ``not`` and function calls may nest together; deeper filters are
#: refused while parsing, never recursed into. 32 because SQLite's parser (the sandbox's store
#: and SQL sources) overflows at about 37 levels of alternating ``and``/``or``.
MAX_DEPTH = 32
#: how deep function calls may nest inside each other (``tolower(trim(x))`` is 2); compiling a
#: call to SQL costs more stack than a parenthesis, so calls have a limit of their own
MAX_FUNCTION_DEPTH = 10

_CONDITIONS = (Compare, And, Or, Not, QueryFunction)
_COMPARE_OPS: frozenset[str] = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<punct>[(),\[\]=])
  | (?P<string>'(?:[^']|'')*')
  | (?P<dstring>"(?:[^"\\]|\\.)*")
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
  | (?P<number>[-+]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMlLdDfF]?(?![\w.]))
  | (?P<alias>@[A-Za-z_]\w*)
  | (?P<qfunc>Microsoft\.Dynamics\.CRM\.[A-Za-z]\w*(?=\s*\())
  | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
  | (?P<name>[A-Za-z_$][\w]*(?:/[A-Za-z_][\w]*)*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FilterSyntaxError(f"unexpected character {text[pos]!r}", text, pos)
        kind = match.lastgroup
        assert kind is not None
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


def _unquote(quoted: str) -> str:
    return quoted[1:-1].replace("''", "'")


def _unquote_json(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _is_boolean_literal(value: object) -> bool:
    return isinstance(value, Literal) and value.kind == "boolean"


def _is_condition(value: object) -> bool:
    return isinstance(value, _CONDITIONS) or (
        isinstance(value, Call) and value.name in BOOLEAN_FUNCTIONS
    )


class _Parser:
    def __init__(self, text: str, aliases: Mapping[str, str] | None = None) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.function_depth = 0
        self.aliases = aliases or {}

    def _alias(self, token: _Token) -> _Parser:
        """A parser over the value of the parameter alias ``token`` (``@p1``)."""
        # OData URL conventions, "Parameter aliases": an alias given no value is null
        value = self.aliases.get(token.text, "null")
        inner = _Parser(value)
        if not inner.tokens:
            raise FilterSyntaxError(f"the parameter alias {token.text!r} is empty", value, 0)
        return inner

    def _finished(self, inner: _Parser, token: _Token) -> None:
        rest = inner._peek()
        if rest is not None:
            raise FilterSyntaxError(
                f"unexpected {rest.text!r} in the value of {token.text}", inner.text, rest.pos
            )

    # -- token helpers -------------------------------------------------------------------------

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise FilterSyntaxError("unexpected end of expression", self.text, len(self.text))
        self.index += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "name" and token.text == word:
            self.index += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        token = self._peek()
        if token is None or token.text != text:
            where = len(self.text) if token is None else token.pos
            found = "end of expression" if token is None else repr(token.text)
            raise FilterSyntaxError(f"expected {text!r}, found {found}", self.text, where)
        self.index += 1

    def _deeper(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterSyntaxError(
                "the filter nests parentheses, 'not' or functions more than "
                f"{MAX_DEPTH} levels deep",
                self.text,
                token.pos,
            )

    # -- grammar -------------------------------------------------------------------------------

    def parse(self) -> Expr:
        if not self.tokens:
            raise FilterSyntaxError("empty expression", self.text, 0)
        expr = self._or()
        token = self._peek()
        if token is not None:
            raise FilterSyntaxError(f"unexpected {token.text!r}", self.text, token.pos)
        return expr

    def _or(self) -> Expr:
        items = [self._and()]
        while self._keyword("or"):
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Expr:
        items = [self._unary()]
        while self._keyword("and"):
            items.append(self._unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _unary(self) -> Expr:
        token = self._peek()
        if token is not None and self._keyword("not"):
            self._deeper(token)
            item = self._unary()
            self.depth -= 1
            return Not(item)
        return self._compare()

    def _compare(self) -> Expr:
        start = self._peek()
        left = self._operand()
        token = self._peek()
        if token is not None and token.kind == "name" and token.text in _COMPARE_OPS:
            self.index += 1
            op: CompareOp = token.text  # type: ignore[assignment]
            right = self._operand()
            return self._comparison(op, left, right, token)
        if isinstance(left, Field):
            return Compare("eq", left, Literal(True, "boolean", implicit=True))
        if _is_condition(left) or _is_boolean_literal(left):
            return left
        pos = start.pos if start is not None else 0
        raise FilterSyntaxError("expected a condition", self.text, pos)

    def _comparison(
        self, op: CompareOp, left: Operand | Expr, right: Operand | Expr, token: _Token
    ) -> Expr:
        left_condition, right_condition = _is_condition(left), _is_condition(right)
        if left_condition or right_condition:
            # a condition compared with a boolean: contains(x,'a') eq true, (...) ne false
            condition, other = (left, right) if left_condition else (right, left)
            if op in ("eq", "ne") and isinstance(other, Literal) and other.kind == "boolean":
                keep = (op == "eq") == bool(other.value)
                expr: Expr = condition  # type: ignore[assignment]
                return expr if keep else Not(expr)
            raise FilterSyntaxError("a comparison needs a value", self.text, token.pos)
        assert not isinstance(left, _CONDITIONS) and not isinstance(right, _CONDITIONS)
        return Compare(op, left, right)

    def _operand(self) -> Operand | Expr:
        token = self._next()
        if token.text == "(":
            self._deeper(token)
            inner = self._or()
            self._expect(")")
            self.depth -= 1
            right = inner.right if isinstance(inner, Compare) else None
            if isinstance(inner, Compare) and isinstance(right, Literal) and right.implicit:
                return inner.left  # (lastname) eq 'x': the parentheses held a value
            return inner
        if token.kind == "string":
            return Literal(_unquote(token.text), "string")
        if token.kind == "guid":
            return Literal(token.text.lower(), "guid")
        if token.kind == "datetime":
            return Literal(token.text, "datetime")
        if token.kind == "date":
            return Literal(token.text, "date")
        if token.kind == "number":
            return _number(token.text)
        if token.kind == "enum":
            type_name, _, rest = token.text.partition("'")
            return Literal(_unquote("'" + rest), "enum", enum_type=type_name)
        if token.kind == "qfunc":
            return self._query_function(token)
        if token.kind == "alias":
            alias = self._alias(token)
            value = alias._operand()
            self._finished(alias, token)
            if not isinstance(value, Literal):
                raise FilterSyntaxError(
                    f"the parameter alias {token.text} must hold a value", self.text, token.pos
                )
            return value
        if token.kind == "name":
            if token.text == "null":
                return Literal(None, "null")
            if token.text in ("true", "false"):
                return Literal(token.text == "true", "boolean")
            follower = self._peek()
            if follower is not None and follower.text == "(":
                return self._call(token)
            if token.text in ("and", "or", "not") or token.text in _COMPARE_OPS:
                raise FilterSyntaxError(f"unexpected {token.text!r}", self.text, token.pos)
            return Field(token.text)
        raise FilterSyntaxError(f"unexpected {token.text!r}", self.text, token.pos)

    def _call(self, name: _Token) -> Call:
        arity = BOOLEAN_FUNCTIONS.get(name.text) or VALUE_FUNCTIONS.get(name.text)
        if arity is None:
            raise FilterSyntaxError(f"unknown function {name.text!r}", self.text, name.pos)
        self._expect("(")
        self._deeper(name)
        self.function_depth += 1
        if self.function_depth > MAX_FUNCTION_DEPTH:
            raise FilterSyntaxError(
                f"the filter nests functions more than {MAX_FUNCTION_DEPTH} levels deep",
                self.text,
                name.pos,
            )
        args: list[Operand] = []
        while True:
            arg = self._operand()
            if not isinstance(arg, (Field, Literal, Call)) or (
                isinstance(arg, Call) and arg.name in BOOLEAN_FUNCTIONS
            ):
                raise FilterSyntaxError(
                    f"{name.text}() takes values, not conditions", self.text, name.pos
                )
            args.append(arg)
            comma = self._peek()
            if comma is None or comma.text != ",":
                break
            self.index += 1
        self._expect(")")
        self.depth -= 1
        self.function_depth -= 1
        if len(args) != arity:
            raise FilterSyntaxError(
                f"{name.text}() takes {arity} argument(s), got {len(args)}", self.text, name.pos
            )
        return Call(name.text, tuple(args))

    # -- Dataverse query functions -------------------------------------------------------------

    def _query_function(self, name: _Token) -> QueryFunction:
        short = name.text.rsplit(".", 1)[1]
        wanted = QUERY_FUNCTIONS.get(short)
        if wanted is None:
            known = ", ".join(QUERY_FUNCTIONS)
            raise FilterSyntaxError(
                f"the query function {name.text!r} is not supported (integrator supports {known})",
                self.text,
                name.pos,
            )
        self._expect("(")
        params: dict[str, tuple[Literal, ...]] = {}
        arrays: set[str] = set()
        while True:
            key = self._next()
            if key.kind != "name":
                raise FilterSyntaxError(
                    f"expected a parameter name, found {key.text!r}", self.text, key.pos
                )
            self._expect("=")
            if key.text in params:
                raise FilterSyntaxError(
                    f"parameter {key.text!r} is given twice", self.text, key.pos
                )
            params[key.text], is_array = self._parameter_value()
            if is_array:
                arrays.add(key.text)
            comma = self._peek()
            if comma is None or comma.text != ",":
                break
            self.index += 1
        self._expect(")")
        unknown = set(params) - {"PropertyName", wanted}
        if unknown or "PropertyName" not in params or wanted not in params:
            raise FilterSyntaxError(
                f"{name.text}() takes the parameters PropertyName and {wanted}",
                self.text,
                name.pos,
            )
        prop = params["PropertyName"]
        if len(prop) != 1 or prop[0].kind != "string" or "PropertyName" in arrays:
            raise FilterSyntaxError(
                f"{name.text}(): PropertyName must be a property name in quotes",
                self.text,
                name.pos,
            )
        values = params[wanted]
        if wanted == "PropertyValues" and wanted not in arrays:
            raise FilterSyntaxError(
                f"{name.text}(): PropertyValues must be a list in brackets: ['a','b']",
                self.text,
                name.pos,
            )
        if wanted == "PropertyValue" and wanted in arrays:
            raise FilterSyntaxError(
                f"{name.text}(): PropertyValue takes one value, not a list", self.text, name.pos
            )
        if short in ("Between", "NotBetween") and len(values) != 2:
            raise FilterSyntaxError(
                f"{name.text}(): PropertyValues must hold two values, got {len(values)}",
                self.text,
                name.pos,
            )
        if short in ("In", "NotIn") and not values:
            raise FilterSyntaxError(
                f"{name.text}(): PropertyValues must hold at least one value",
                self.text,
                name.pos,
            )
        return QueryFunction(short, str(prop[0].value), values)

    def _parameter_value(self) -> tuple[tuple[Literal, ...], bool]:
        token = self._peek()
        if token is not None and token.kind == "alias":
            self.index += 1
            inner = self._alias(token)
            found = inner._parameter_value()
            self._finished(inner, token)
            return found
        if token is not None and token.text == "[":
            self.index += 1
            values: list[Literal] = []
            closing = self._peek()
            if closing is not None and closing.text == "]":
                self.index += 1
            else:
                while True:
                    values.append(self._array_item())
                    sep = self._next()
                    if sep.text == "]":
                        break
                    if sep.text != ",":
                        raise FilterSyntaxError(
                            f"expected ',' or ']', found {sep.text!r}", self.text, sep.pos
                        )
            return tuple(values), True
        value = self._operand()
        if not isinstance(value, Literal):
            where = token.pos if token is not None else len(self.text)
            raise FilterSyntaxError(
                "a parameter takes a literal value (a property name goes in quotes: 'name')",
                self.text,
                where,
            )
        return (value,), False

    def _array_item(self) -> Literal:
        token = self._next()
        if token.kind == "dstring":
            return Literal(_unquote_json(token.text), "string")
        if token.kind == "string":
            return Literal(_unquote(token.text), "string")
        if token.kind == "number":
            return _number(token.text)
        if token.kind in ("guid", "date", "datetime"):
            return Literal(token.text.lower() if token.kind == "guid" else token.text, "string")
        if token.kind == "name" and token.text in ("true", "false"):
            return Literal(token.text == "true", "boolean")
        raise FilterSyntaxError(
            f"expected a value in the list, found {token.text!r}", self.text, token.pos
        )


def _number(text: str) -> Literal:
    body = text.rstrip("mMlLdDfF").lstrip("+")
    if re.fullmatch(r"-?\d+", body):
        return Literal(int(body), "integer")
    return Literal(float(Decimal(body)), "decimal")


def parse_filter(text: str, aliases: Mapping[str, str] | None = None) -> Expr:
    """Parse an OData ``$filter`` expression.

    ``aliases`` holds the request's parameter aliases (``{"@p1": "'lastname'"}``) that the
    filter may use in place of a value, as Dataverse's query function examples do
    (``Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='lastname'&@p2=[...]``).
    Raises :class:`integrator.errors.FilterSyntaxError` (with ``position`` and ``reason``) when
    ``text`` is not a valid filter, including one nested deeper than :data:`MAX_DEPTH` (or with
    function calls nested deeper than :data:`MAX_FUNCTION_DEPTH`).
    """
    return _Parser(text, aliases).parse()
