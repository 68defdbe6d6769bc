"""OData ``$filter`` support shared by the engine, the connectors and the sandbox.

- :func:`parse_filter` turns text into a syntax tree (or raises ``FilterSyntaxError``);
- :func:`check_types` checks it against the entity's property types (``FilterTypeError``);
- :func:`expand_query_functions` rewrites Dataverse query functions as comparisons;
- :func:`evaluate` applies it to a record in Python (:func:`compile_filter`: once per filter);
- :func:`to_sqlalchemy` compiles it to a SQL condition with bound parameters;
- :func:`to_odata` writes it back as text for Dataverse or F&O;
- :func:`referenced_fields` lists the fields it reads.
"""

from __future__ import annotations

from integrator.odata.ast import (
    And,
    Call,
    Compare,
    Expr,
    Field,
    Literal,
    Not,
    Operand,
    Or,
    QueryFunction,
)
from integrator.odata.evaluate import Predicate, compile_filter, evaluate, field_value
from integrator.odata.functions import expand_query_functions
from integrator.odata.parser import parse_filter
from integrator.odata.render import referenced_fields, to_odata
from integrator.odata.sql import UnknownFieldError, to_sqlalchemy
from integrator.odata.types import check_types

__all__ = [
    "And",
    "Call",
    "Compare",
    "Expr",
    "Field",
    "Literal",
    "Not",
    "Operand",
    "Or",
    "Predicate",
    "QueryFunction",
    "UnknownFieldError",
    "check_types",
    "compile_filter",
    "evaluate",
    "expand_query_functions",
    "field_value",
    "parse_filter",
    "referenced_fields",
    "to_odata",
    "to_sqlalchemy",
]
