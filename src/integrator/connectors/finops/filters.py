"""Which part of a ``$filter`` F&O evaluates exactly.

F&O has no ``contains``/``startswith``/``endswith``: they are written as ``eq '*x*'``, which is
exact as long as the text has no ``*`` of its own; ``*`` in a string literal compared with
``eq``/``ne`` is a wildcard, not a character, and cannot be escaped. Conditions holding such a
``*`` are not pushed down; :func:`exact_part` keeps what can be, as a filter that every
matching record satisfies (so the server may return more rows, never fewer).

Dataverse's query functions (``Microsoft.Dynamics.CRM.In`` ...), which F&O's OData service does
not define, are never pushed down either: integrator checks them on each record it reads.
"""

from __future__ import annotations

from integrator.odata.ast import And, Call, Compare, Expr, Literal, Not, Or, QueryFunction

__all__ = ["exact_part"]


def _exact(expr: Expr) -> bool:
    if isinstance(expr, QueryFunction):
        return False
    if isinstance(expr, Literal):
        return True
    if isinstance(expr, And | Or):
        return all(_exact(item) for item in expr.items)
    if isinstance(expr, Not):
        return _exact(expr.item)
    if isinstance(expr, Compare):
        operands = (expr.left, expr.right)
        if any(isinstance(o, Call) for o in operands):
            return False
        return not any(
            isinstance(o, Literal) and o.kind == "string" and "*" in str(o.value) for o in operands
        )
    # contains/startswith/endswith(field, 'text'): a wildcard eq, exact without a '*' in text
    return (
        len(expr.args) == 2
        and not isinstance(expr.args[0], Call | Literal)
        and isinstance(expr.args[1], Literal)
        and expr.args[1].kind == "string"
        and "*" not in str(expr.args[1].value)
    )


def exact_part(expr: Expr) -> Expr | None:
    """A filter implied by ``expr`` that F&O evaluates exactly, or ``None`` when none is."""
    if _exact(expr):
        return expr
    if isinstance(expr, And):
        kept = [part for part in (exact_part(item) for item in expr.items) if part is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else And(tuple(kept))
    return None
