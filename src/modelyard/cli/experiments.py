"""``modelyard experiments create|list``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, table, workspace

app = typer.Typer(help="Experiments: named groups of tracked runs.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Experiment name (letters, digits, . _ -).")],
    description: Annotated[str, typer.Option(help="What the experiment is about.")] = "",
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Succeed if it exists already.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an experiment."""
    ws = workspace()
    experiment = ws.tracking.create_experiment(name, description=description, exist_ok=exist_ok)

    def render(_: Any) -> None:
        console.print(f"experiment [bold]{experiment.name}[/bold] ready")

    emit(experiment, as_json, render)


@app.command("list")
def list_experiments(as_json: JsonOpt = False) -> None:
    """List experiments."""
    ws = workspace()
    experiments = ws.tracking.list_experiments()
    emit(
        {"experiments": experiments},
        as_json,
        lambda _: table(
            "experiments",
            ["name", "created", "by", "description"],
            [
                [e.name, e.created_at.isoformat(timespec="seconds"), e.created_by, e.description]
                for e in experiments
            ],
        ),
    )
