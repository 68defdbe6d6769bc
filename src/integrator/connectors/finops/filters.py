"""Which part of a ``$filter`` F&O evaluates exactly.

F&O has no ``contains``/``startswith``/``endswith`` (they become ``eq '*x*'``), and ``*`` in a
string literal compared with ``eq``/``ne`` is a wildcard, not a character. Such conditions are
not pushed down; :func:`exact_part` keeps what can be, as a filter that every matching record
satisfies (so the server may return more rows, never fewer).
"""

from __future__ import annotations

from integrator.odata.ast import And, Call, Compare, Expr, Literal, Not, Or

__all__ = ["exact_part"]


def _exact(expr: Expr) -> bool:
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
    return False  # a boolean function: contains, startswith, endswith


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
