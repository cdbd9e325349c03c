"""``modelyard runs create|list|show|search|compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, table, workspace
from modelyard.errors import InvalidInputError
from modelyard.tracking import Run
from modelyard.tracking.model import parse_assignments, parse_metric_assignments

app = typer.Typer(
    help="Tracked runs: params, metrics, tags, artifacts; search.", no_args_is_help=True
)

ParamOpt = Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE (repeatable).")]
MetricOpt = Annotated[
    list[str] | None, typer.Option("--metric", help="KEY=NUMBER (repeatable; nan/inf allowed).")
]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE (repeatable).")]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _runs_table(title: str, runs: list[Run]) -> None:
    metric_keys = sorted({k for r in runs for k in r.metrics})[:6]
    table(
        title,
        ["run_id", "experiment", "status", "started", *metric_keys],
        [
            [
                r.run_id,
                r.experiment,
                r.status.value,
                r.start_time.isoformat(timespec="seconds"),
                *[_fmt(r.metrics.get(k)) for k in metric_keys],
            ]
            for r in runs
        ],
    )


@app.command("create")
def create(
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="Experiment name.")],
    param: ParamOpt = None,
    metric: MetricOpt = None,
    tag: TagOpt = None,
    artifact: Annotated[
        list[Path] | None, typer.Option("--artifact", help="A file to attach (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a finished run with its params, metrics (at step 0) and tags."""
    params = parse_assignments(param or [], "param")
    metrics = parse_metric_assignments(metric or [])
    tags = parse_assignments(tag or [], "tag")
    files = list(artifact or [])
    for path in files:
        if not path.is_file():
            what = "does not exist" if not path.exists() else "is a folder, not a file"
            raise InvalidInputError(f"artifact {str(path)!r} {what}", hint="check the path")
    ws = workspace()
    if files:
        with ws.tracking.start_run(experiment, params=params, tags=tags) as active:
            active.log_metrics(metrics, step=0)
            for path in files:
                active.log_artifact(path)
        run = ws.tracking.get_run(active.run_id)
    else:
        run = ws.tracking.record_run(experiment, params=params, metrics=metrics, tags=tags)

    def render(_: Any) -> None:
        console.print(f"run [bold]{run.run_id}[/bold] recorded in {run.experiment}")

    emit(run, as_json, render)


@app.command("list")
def list_runs(
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Only this experiment.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N runs.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List runs, newest first."""
    ws = workspace()
    runs = ws.tracking.list_runs(experiment, limit=limit)
    emit({"runs": runs}, as_json, lambda _: _runs_table("runs (newest first)", runs))


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(help="The run id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one run: status, times, params, latest metrics, tags and artifacts."""
    ws = workspace()
    run = ws.tracking.get_run(run_id)
    history = {k: len(ws.tracking.metric_history(run_id, k)) for k in run.metrics}
    result = {**run.to_dict(), "metric_points": history}

    def render(_: Any) -> None:
        console.print(f"[bold]run {run.run_id}[/bold] ({run.experiment}) {run.status.value}")
        console.print(f"  started {run.start_time.isoformat(timespec='seconds')}")
        if run.end_time is not None:
            console.print(f"  ended   {run.end_time.isoformat(timespec='seconds')}")
        rows: list[list[Any]] = [["param", k, v, ""] for k, v in sorted(run.params.items())]
        rows += [
            ["metric", k, _fmt(v), f"{history[k]} points"] for k, v in sorted(run.metrics.items())
        ]
        rows += [["tag", k, v, ""] for k, v in sorted(run.tags.items())]
        rows += [
            ["artifact", k, str(a["sha256"])[:12] + "…", f"{a['size_bytes']} bytes"]
            for k, a in sorted(run.artifacts.items())
        ]
        table("", ["kind", "key", "value", ""], rows)

    emit(result, as_json, render)


@app.command("search")
def search(
    filter_text: Annotated[
        str,
        typer.Argument(
            metavar="FILTER",
            help="e.g. \"metrics.auc > 0.7 and params.model = 'lgbm' order by metrics.auc "
            'desc limit 5" (empty string: all runs).',
        ),
    ],
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", "-e", help="Only these experiments.")
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="FIELD [asc|desc] (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most N runs.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search runs with the filter language (see docs/registry-and-tracking.md)."""
    ws = workspace()
    runs = ws.tracking.search_runs(
        filter_text, experiments=experiment or None, order_by=order_by or (), limit=limit
    )
    emit(
        {"filter": filter_text, "count": len(runs), "runs": runs},
        as_json,
        lambda _: _runs_table(f"{len(runs)} runs match", runs),
    )


@app.command("compare")
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    as_json: JsonOpt = False,
) -> None:
    """Compare runs side by side: params, latest metrics and tags."""
    ws = workspace()
    result = ws.tracking.compare_runs(run_ids)

    def render(_: Any) -> None:
        heads = [r.run_id[:8] for r in result.runs]
        rows: list[list[Any]] = []
        for kind, values in (
            ("param", result.params),
            ("metric", result.metrics),
            ("tag", result.tags),
        ):
            for key, vs in values.items():
                marker = " *" if len({repr(v) for v in vs}) > 1 else ""
                rows.append([kind, key + marker, *[_fmt(v) for v in vs]])
        table("runs side by side (* = differs)", ["kind", "key", *heads], rows)

    emit(result, as_json, render)
