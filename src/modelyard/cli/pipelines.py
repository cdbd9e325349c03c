"""``modelyard pipelines run|list|show|logs``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, progress, table, to_jsonable, workspace

if TYPE_CHECKING:
    from modelyard.pipelines.log import StepEvent

app = typer.Typer(help="Training and inference pipelines (tracked runs).", no_args_is_help=True)


def _event_line(e: StepEvent) -> str:
    took = f" ({e.duration_s:.2f}s)" if e.duration_s is not None else ""
    msg = f": {e.message}" if e.message else ""
    return f"{e.time.isoformat(timespec='milliseconds')} {e.step:<20} {e.event}{took}{msg}"


@app.command("run")
def run(
    kind: Annotated[str, typer.Argument(help="training or inference")],
    config: Annotated[Path, typer.Option("--config", help="YAML parameters of the pipeline.")],
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline from a YAML config; print its result."""
    from modelyard.pipelines.config import InferenceConfig, TrainingConfig, load_config

    cfg = load_config(config)
    if cfg.kind != kind:
        raise typer.BadParameter(f"{config} is a {cfg.kind} config, not {kind}")
    ws = workspace(create=True)
    with progress(as_json) as bar:
        task = bar.add_task(f"{kind} pipeline", total=None)

        def on_step(name: str, index: int, total: int) -> None:
            bar.update(task, description=f"{kind}: {name}", completed=index, total=total)

        if isinstance(cfg, TrainingConfig):
            result: Any = ws.pipelines.run_training(cfg, on_step=on_step)
        else:
            assert isinstance(cfg, InferenceConfig)
            result = ws.pipelines.run_inference(cfg, on_step=on_step)
    emit(result, as_json, lambda r: console.print_json(json.dumps(to_jsonable(r))))


@app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Pipeline runs, newest first."""
    ws = workspace()
    runs = ws.pipelines.list_runs(limit=limit)
    emit(
        {"runs": runs},
        as_json,
        lambda _: table(
            "pipeline runs",
            ["run_id", "kind", "status", "started_at", "ended_at"],
            [
                [
                    r.run_id,
                    r.kind,
                    r.status,
                    r.started_at.isoformat(timespec="seconds"),
                    r.ended_at.isoformat(timespec="seconds") if r.ended_at else "",
                ]
                for r in runs
            ],
        ),
    )


@app.command("show")
def show(run_id: str, as_json: JsonOpt = False) -> None:
    """One pipeline run: config, status, result or error."""
    ws = workspace()
    found = ws.pipelines.get_run(run_id)
    emit(found, as_json, lambda r: console.print_json(json.dumps(to_jsonable(r))))


@app.command("logs")
def logs(
    run_id: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for new steps.")] = False,
    timeout_s: Annotated[float, typer.Option(help="Stop following after this long.")] = 3600,
    as_json: JsonOpt = False,
) -> None:
    """The step log of a run: start, end, duration and failure of each step."""
    ws = workspace()
    if follow and not as_json:
        for event in ws.pipelines.follow(run_id, timeout_s=timeout_s):
            console.print(_event_line(event))
        return
    events = (
        list(ws.pipelines.follow(run_id, timeout_s=timeout_s))
        if follow
        else ws.pipelines.logs(run_id)
    )

    def render(_: Any) -> None:
        for event in events:
            console.print(_event_line(event))

    emit({"run_id": run_id, "events": events}, as_json, render)
