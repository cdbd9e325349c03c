"""Shared CLI plumbing: the ``--json`` option, output, progress bars, opening the workspace.

Every command takes ``--json`` and then prints exactly one JSON document on stdout; without it,
it prints for people (rich tables) on stdout. Errors never reach here: the root turns them into
``error:``/``hint:`` lines (see ``modelyard.cli.main``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from modelyard.workspace import Workspace, open_workspace

__all__ = [
    "JsonOpt",
    "console",
    "emit",
    "err_console",
    "progress",
    "table",
    "to_jsonable",
    "workspace",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

# Piped output (CI logs, files) is not cut at 80 columns: tables keep their content.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses with ``to_dict``, datetimes, paths, enums and sets made JSON-able."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return to_jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN/inf as strings: strict JSON readers would choke otherwise
    return value


def emit(result: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``result``: one JSON document with ``--json``, else ``render(result)``."""
    if as_json:
        typer.echo(json.dumps(to_jsonable(result), indent=2, sort_keys=False))
    elif render is not None:
        render(result)
    else:
        console.print(result)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a rich table (for people; ``--json`` is for scripts)."""
    tbl = Table(title=title, title_justify="left")
    for col in columns:
        tbl.add_column(col)
    for row in rows:
        tbl.add_row(*("" if v is None else str(v) for v in row))
    console.print(tbl)


@contextmanager
def progress(as_json: bool) -> Iterator[Progress]:
    """A rich progress bar on stderr (quiet with ``--json`` so stdout stays one document)."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json or not err_console.is_terminal,
    )
    with bar:
        yield bar


def workspace(create: bool = False, *, must_exist: bool = True) -> Workspace:
    """The workspace named by the environment (``MODELYARD_HOME`` etc.).

    ``create`` initialises it if new; otherwise, with ``must_exist``, a missing workspace is a
    ConfigError that says to run ``modelyard init`` (before anything else is touched).
    """
    ws = open_workspace(create=create)
    if not create and must_exist:
        ws.info()
    return ws
