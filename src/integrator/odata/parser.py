"""Parse OData ``$filter`` text into the syntax tree of :mod:`integrator.odata.ast`.

The grammar is the part of OData v4 that Dataverse and F&O filters use::

    expr    := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | compare
    compare := operand (("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand)?
    operand := "(" expr ")" | call | literal | field

A bare boolean operand (``msdynce_isactivecustomer``) means ``... eq true``.
"""

from __future__ import annotations

import re
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
)

__all__ = ["BOOLEAN_FUNCTIONS", "VALUE_FUNCTIONS", "parse_filter"]

BOOLEAN_FUNCTIONS = {"contains": 2, "startswith": 2, "endswith": 2}
VALUE_FUNCTIONS = {"tolower": 1, "toupper": 1, "trim": 1}
_CONDITIONS = (Compare, And, Or, Not)
_COMPARE_OPS: frozenset[str] = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<punct>[(),])
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMlLdDfF]?(?![\w.]))
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


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

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
        if self._keyword("not"):
            return Not(self._unary())
        return self._compare()

    def _compare(self) -> Expr:
        start = self._peek()
        left = self._operand()
        token = self._peek()
        if token is not None and token.kind == "name" and token.text in _COMPARE_OPS:
            self.index += 1
            op: CompareOp = token.text  # type: ignore[assignment]
            right = self._operand()
            if isinstance(left, _CONDITIONS) or isinstance(right, _CONDITIONS):
                raise FilterSyntaxError("a comparison needs a value", self.text, token.pos)
            if (isinstance(left, Call) and left.name in BOOLEAN_FUNCTIONS) or (
                isinstance(right, Call) and right.name in BOOLEAN_FUNCTIONS
            ):
                raise FilterSyntaxError("a comparison needs a value", self.text, token.pos)
            return Compare(op, left, right)
        if isinstance(left, Field):
            return Compare("eq", left, Literal(True, "boolean"))
        if isinstance(left, Call) and left.name in BOOLEAN_FUNCTIONS:
            return left
        if isinstance(left, _CONDITIONS):
            return left
        pos = start.pos if start is not None else 0
        raise FilterSyntaxError("expected a condition", self.text, pos)

    def _operand(self) -> Operand | Expr:
        token = self._next()
        if token.text == "(":
            inner = self._or()
            self._expect(")")
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
        if len(args) != arity:
            raise FilterSyntaxError(
                f"{name.text}() takes {arity} argument(s), got {len(args)}", self.text, name.pos
            )
        return Call(name.text, tuple(args))


def _number(text: str) -> Literal:
    body = text.rstrip("mMlLdDfF")
    if re.fullmatch(r"-?\d+", body):
        return Literal(int(body), "integer")
    return Literal(float(Decimal(body)), "decimal")


def parse_filter(text: str) -> Expr:
    """Parse an OData ``$filter`` expression.

    Raises :class:`integrator.errors.FilterSyntaxError` (with ``position`` and ``reason``) when
    ``text`` is not a valid filter.
    """
    return _Parser(text).parse()
