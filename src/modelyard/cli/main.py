"""The ``modelyard`` command: ``modelyard <noun> <verb>``.

Exit codes: 0 success; 1 a check failed (e.g. ``audit verify`` found tampering) or an
internal error; otherwise the ``exit_code`` of the ModelyardError raised (see
``modelyard.errors``): 2 invalid input or usage, 3 configuration, 4 not found, 5 already
exists, 6 conflict, 7 permission denied, 8 data quality, 9 pipeline failure, 10 storage.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Annotated

import typer
from typer.exceptions import TyperException

from modelyard import __version__
from modelyard.cli import init, quickstart
from modelyard.cli.output import err_console
from modelyard.errors import ModelyardError

app = typer.Typer(
    name="modelyard",
    help="modelyard: datasets, experiments, models, monitoring and features in one place.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelyard {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """modelyard: one coherent MLOps platform, from raw data to a monitored model."""


app.command("init")(init.init)
app.command("quickstart")(quickstart.quickstart)

# One module per noun, imported only when its noun is used: a command loads polars, scipy or
# lightgbm only if it needs them, so `modelyard audit list` starts in a fraction of a second.
NOUNS: dict[str, str] = {
    "datasets": "modelyard.cli.datasets",
    "catalog": "modelyard.cli.catalog",
    "experiments": "modelyard.cli.experiments",
    "runs": "modelyard.cli.runs",
    "models": "modelyard.cli.models",
    "pipelines": "modelyard.cli.pipelines",
    "adherence": "modelyard.cli.adherence",
    "monitor": "modelyard.cli.monitor",
    "alarms": "modelyard.cli.alarms",
    "metrics": "modelyard.cli.metrics",
    "features": "modelyard.cli.features",
    "audit": "modelyard.cli.audit",
}
_registered: set[str] = set()


def register_nouns(names: list[str] | None = None) -> typer.Typer:
    """Attach the named noun modules (all of them by default) to the root app."""
    for name in NOUNS if names is None else names:
        if name in _registered:
            continue
        module = importlib.import_module(NOUNS[name])
        app.add_typer(module.app, name=name)
        _registered.add(name)
    return app


def _nouns_for(args: list[str]) -> list[str] | None:
    """The noun an invocation needs, or None (help, unknown words: load them all)."""
    words = [a for a in args if not a.startswith("-")]
    if not words and "--version" in args:
        return []
    if words and words[0] in ("init", "quickstart"):
        return []
    if words and words[0] in NOUNS:
        return [words[0]]
    return None


def _report(exc: ModelyardError, as_json: bool) -> int:
    if as_json:
        typer.echo(json.dumps(exc.to_dict(), default=str))
    err_console.print(f"[red]error:[/red] {exc.message}", markup=True, highlight=False)
    if exc.hint:
        err_console.print(f"[yellow]hint:[/yellow] {exc.hint}", markup=True, highlight=False)
    return exc.exit_code


def run(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every error into ``error:``/``hint:`` and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        register_nouns(_nouns_for(args))
        rc = app(args=args, prog_name="modelyard", standalone_mode=False)
    except ModelyardError as exc:
        sys.exit(_report(exc, as_json))
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except TyperException as exc:
        # usage errors: unknown option, missing argument, a value of the wrong type
        show = getattr(exc, "show", None)
        if callable(show):
            show(file=sys.stderr)
        else:
            err_console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 -- last resort: a bug must not print a traceback
        if os.environ.get("MODELYARD_DEBUG"):
            traceback.print_exc()
        err_console.print(f"[red]error:[/red] internal error: {type(exc).__name__}: {exc}")
        err_console.print(
            "[yellow]hint:[/yellow] this is a bug in modelyard; rerun with MODELYARD_DEBUG=1 "
            "for the traceback and report it"
        )
        sys.exit(1)
    # with standalone_mode=False, click returns a typer.Exit's code instead of raising it
    sys.exit(rc if isinstance(rc, int) else 0)
