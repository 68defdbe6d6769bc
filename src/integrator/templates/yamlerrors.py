"""YAML syntax errors in plain words: what is wrong, on which line, and that line as written.

ruamel.yaml reports what its scanner and parser were doing ("while scanning a simple key ...
could not find expected ':'"); a person editing a project file needs "a ':' is missing after
the key" and the line it is on. :func:`syntax_problem` makes that translation.
"""

from __future__ import annotations

import re

from ruamel.yaml.error import MarkedYAMLError, StringMark

from integrator.errors import ConfigProblem

__all__ = ["syntax_problem"]

_CLOSERS = {"[": "]", "{": "}"}


def syntax_problem(exc: MarkedYAMLError, text: str, file: str) -> ConfigProblem:
    """The :class:`ConfigProblem` a syntax error in ``text`` (the file ``file``) is: its line
    (where the user has to look, e.g. the key missing its ':' rather than where the parser
    gave up), a plain sentence saying what is wrong and how to fix it, and that line's text."""
    lines = text.splitlines()
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    problem_line = _line(exc.problem_mark)
    context_line = _line(exc.context_mark)
    line, message = _explain(problem, context, problem_line, context_line, lines)
    if line is None:
        line = problem_line or context_line
    shown = ""
    if line is not None and 1 <= line <= len(lines) and lines[line - 1].strip():
        shown = f" (line {line} reads {lines[line - 1].rstrip()!r})"
    return ConfigProblem(file, line, "", f"YAML syntax error: {message}{shown}")


def _line(mark: StringMark | None) -> int | None:
    return None if mark is None else mark.line + 1


def _explain(
    problem: str,
    context: str,
    problem_line: int | None,
    context_line: int | None,
    lines: list[str],
) -> tuple[int | None, str]:
    """(the line to point at, the sentence) for one parser complaint."""
    if "'\\t'" in problem:
        return problem_line, "a tab is not allowed for indentation: indent with spaces"
    if "could not find expected ':'" in problem:
        return context_line, "a ':' is missing after the key (write `key: value`)"
    if "quoted scalar" in context:
        if "end of stream" in problem or "document separator" in problem:
            return context_line, f"the quote opened on line {context_line} is never closed"
        if "escape" in problem:
            return problem_line, (
                "a backslash in a double-quoted value starts an escape it does not know: "
                "use single quotes, or write the backslash twice"
            )
    if "duplicate key" in problem:
        found = re.search(r'duplicate key "(.*?)"', problem)
        key = found.group(1) if found else "?"
        return problem_line, f"the key '{key}' is given twice in the same place: keep one"
    if "undefined alias" in problem:
        return problem_line, (
            "a value starting with '*' must be in quotes ('*' names an anchor in YAML)"
        )
    if "cannot start any token" in problem:
        found = re.search(r"found character '(.*?)'", problem)
        char = found.group(1) if found else "?"
        return problem_line, f"a value cannot start with '{char}': put the value in quotes"
    if "mapping values are not allowed" in problem:
        return problem_line, (
            "a ':' is not allowed here: put a value holding ': ' in quotes, or indent this "
            "line like the keys beside it"
        )
    if "flow" in context:
        opened = _unclosed_bracket(lines, problem_line)
        if opened is not None:
            char, at = opened
            return at, (
                f"the '{char}' opened on line {at} is never closed with '{_CLOSERS[char]}', "
                "or a ',' is missing between its items"
            )
        return problem_line, "a '[' or '{' list is not closed, or a ',' is missing in it"
    if "block end" in problem or "block" in context:
        return problem_line, (
            "this line is not indented like the lines above it: keys of the same mapping start "
            "in the same column, and list items with '- '"
        )
    reason = "; ".join(part for part in (context, problem) if part)
    return problem_line, f"the YAML cannot be read here ({reason})"


def _unclosed_bracket(lines: list[str], before: int | None) -> tuple[str, int] | None:
    """The last '[' or '{' still open at line ``before`` (1-based; ``None``: the end), skipping
    quoted text and comments, as (bracket, line)."""
    stack: list[tuple[str, int]] = []
    last = len(lines) if before is None else min(before, len(lines))
    for number, line in enumerate(lines[:last], start=1):
        quote: str | None = None
        previous = " "
        for char in line:
            if quote is not None:
                if char == quote:
                    quote = None
            elif char in "'\"" and previous in " [{,:":
                quote = char
            elif char == "#" and previous.isspace():
                break
            elif char in _CLOSERS:
                stack.append((char, number))
            elif char in "]}" and stack:
                stack.pop()
            previous = char
    return stack[-1] if stack else None
