"""Data is never Rich markup: tables whose cells are literal text.

Record keys, names, messages and mapping values come from the connected systems or the
project files; a ``[/red]`` or ``[link=...]`` in them must print as typed, not crash the
command (``MarkupError``) or become a terminal hyperlink. Every table the CLI prints data in is
a :class:`PlainTable`, so no call site has to remember to escape.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import StyleType
from rich.table import Table
from rich.text import Text

__all__ = ["PlainTable", "plain"]


def plain(value: object) -> RenderableType:
    """``value`` as a renderable that Rich shows literally: a string becomes :class:`Text`
    (never parsed as markup); anything already renderable (``Text``, a table) is kept; ``None``
    is an empty cell."""
    if value is None:
        return Text("")
    if isinstance(value, str):
        return Text(value)
    if hasattr(value, "__rich_console__") or hasattr(value, "__rich__"):
        return value  # type: ignore[return-value]
    return Text(str(value))


class PlainTable(Table):
    """A :class:`rich.table.Table` whose string cells are literal text, not markup."""

    def add_row(
        self,
        *renderables: RenderableType | None,
        style: StyleType | None = None,
        end_section: bool = False,
    ) -> None:
        """Add a row as :meth:`Table.add_row` does; each string cell is shown as typed."""
        super().add_row(
            *(plain(cell) for cell in renderables), style=style, end_section=end_section
        )
