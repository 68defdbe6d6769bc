"""The one place where errors become what the command line prints and the code it exits with.

Every command is wrapped in :func:`with_exit_codes`. An :class:`~integrator.errors.IntegratorError`
escaping the command is an expected failure: it is printed in plain words on stderr (and, with
``--json``, as one JSON document on stdout), never with a traceback, and the command exits with
the error's own ``exit_code`` (SPEC §7). Ctrl-C (and SIGTERM, for commands that run projects)
prints one line and exits 130. Any other exception is a bug: it keeps its traceback, so that it
can be reported.
"""

from __future__ import annotations

import dataclasses
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from rich.text import Text

from integrator.errors import ConfigError, IntegratorError, UnavailableSystems

__all__ = ["INTERRUPTED_EXIT_CODE", "error_json", "print_error", "with_exit_codes"]

INTERRUPTED_EXIT_CODE = 130

Params = ParamSpec("Params")
Result = TypeVar("Result")


def with_exit_codes(
    *, interruptible: bool = False
) -> Callable[[Callable[Params, Result]], Callable[Params, Result]]:
    """Decorate a Typer command so that its expected errors end it as SPEC §7 says.

    The command's ``json_output`` keyword (``--json``) chooses JSON output for the error too.
    With ``interruptible``, SIGTERM interrupts the command as Ctrl-C does (a run stops, records
    itself, and the command exits 130) instead of killing the process mid-batch.
    """

    def decorate(command: Callable[Params, Result]) -> Callable[Params, Result]:
        @functools.wraps(command)
        def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Result:
            json_output = bool(kwargs.get("json_output", False))
            try:
                with _sigterm_interrupts() if interruptible else nullcontext():
                    return command(*args, **kwargs)
            except KeyboardInterrupt as interrupt:
                _print_interrupted(interrupt, json_output)
                raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
            except IntegratorError as error:
                print_error(error, json_output=json_output)
                raise typer.Exit(error.exit_code) from None

        return wrapper

    return decorate


def print_error(error: IntegratorError, *, json_output: bool) -> None:
    """Say what went wrong: in words on stderr, and with ``json_output`` also as the JSON
    document of :func:`error_json` on stdout. An outcome with exit code 0 (not a failure) is
    said on stdout."""
    # emoji=False: "file.yaml:100: ..." is a line number, not rich's :100: emoji
    console = Console(stderr=error.exit_code != 0, highlight=False, markup=False, emoji=False)
    if json_output:
        _emit_json(error_json(error))
    if error.exit_code == 0:
        console.print(str(error), markup=False, soft_wrap=True)
    elif isinstance(error, ConfigError) and any(problem.file for problem in error.problems):
        console.print(
            Text("The configuration is not valid; nothing was run or written:", style="red")
        )
        for problem in error.problems:
            console.print(f"  {problem}", markup=False, soft_wrap=True)
    elif isinstance(error, (ConfigError, UnavailableSystems)):
        lines = (
            [str(problem) for problem in error.problems]
            if isinstance(error, ConfigError)
            else [str(each) for each in error.errors]
        )
        for line in lines:
            _print_error_line(console, line)
        if isinstance(error, UnavailableSystems):
            console.print("Nothing was run or written.")
    else:
        _print_error_line(console, str(error))


def error_json(error: IntegratorError) -> dict[str, Any]:
    """The ``--json`` document of an error (SPEC §5): ``{"problems": [{"file", "line", "path",
    "message"}]}`` for a configuration error, ``{"error": {"code", "message"}}`` for any other
    (with ``"systems"``, one per system, when systems could not be used), and ``{"message"}``
    for an outcome that is not a failure."""
    if isinstance(error, ConfigError):
        return {"problems": [dataclasses.asdict(problem) for problem in error.problems]}
    if error.exit_code == 0:
        return {"message": str(error)}
    body: dict[str, Any] = {"code": error.category, "message": str(error)}
    if isinstance(error, UnavailableSystems):
        body["systems"] = [
            {"system": each.system, "url": each.url, "code": each.category, "message": str(each)}
            for each in error.errors
        ]
    return {"error": body}


def _print_error_line(console: Console, text: str) -> None:
    # one line however long (a URL, a path): a log or a test reads it as one
    console.print(Text.assemble(("error:", "red"), " ", text), soft_wrap=True)


def _print_interrupted(interrupt: KeyboardInterrupt, json_output: bool) -> None:
    text = str(interrupt) or "interrupted"
    if json_output:
        _emit_json({"error": {"code": "interrupted", "message": text}})
    Console(stderr=True, highlight=False, emoji=False).print(text, markup=False, soft_wrap=True)


def _emit_json(document: object) -> None:
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM raises ``KeyboardInterrupt`` in the main thread, as Ctrl-C does.
    Signal handlers can only be set from the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt("interrupted (SIGTERM)")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
