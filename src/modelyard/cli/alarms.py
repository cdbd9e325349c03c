"""``modelyard alarms create|list|show|history|evaluate|delete``: CloudWatch-style alarms."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelyard.alerts.model import AlarmDefinition
from modelyard.cli.metrics import DimensionOpt, parse_dimensions
from modelyard.cli.output import JsonOpt, console, emit, table, workspace
from modelyard.errors import InvalidInputError

app = typer.Typer(help="Alarms on metrics (CloudWatch semantics).", no_args_is_help=True)


def _actions(specs: list[str] | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for spec in specs or []:
        state, sep, target = spec.partition("=")
        if not sep:
            raise InvalidInputError(
                f"--action {spec!r} is not STATE=TARGET",
                hint="e.g. --action ALARM=log --action ALARM=webhook:https://host/hook",
            )
        out.setdefault(state.upper(), []).append(target)
    return {k: tuple(v) for k, v in out.items()}


def _render_alarm(a: dict[str, Any]) -> None:
    dims = ", ".join(f"{k}={v}" for k, v in sorted(a["dimensions"].items()))
    console.print(f"[bold]{a['name']}[/bold]: {a['state']} ({a['reason']})")
    console.print(
        f"  {a['namespace']} {a['metric_name']} [{dims}] {a['statistic']} over "
        f"{a['period_s']} s {a['comparison']} {a['threshold']:g}; "
        f"{a['datapoints_to_alarm']} of {a['evaluation_periods']} periods; "
        f"missing data: {a['treat_missing_data']}"
    )
    for state, targets in a["actions"].items():
        console.print(f"  on {state}: {', '.join(targets)}")


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Alarm name.")],
    metric: Annotated[str, typer.Option("--metric", help="Metric name, e.g. DriftScore.")],
    threshold: Annotated[float, typer.Option(help="Threshold.")],
    namespace: Annotated[str, typer.Option(help="Namespace.")] = "modelyard/monitoring",
    dimension: DimensionOpt = None,
    statistic: Annotated[str, typer.Option(help="Average|Sum|Minimum|Maximum|SampleCount.")] = (
        "Maximum"
    ),
    comparison: Annotated[
        str, typer.Option(help="GreaterThan[OrEqualTo]Threshold | LessThan[OrEqualTo]Threshold.")
    ] = "GreaterThanOrEqualToThreshold",
    period: Annotated[int, typer.Option(help="Period in seconds.")] = 300,
    evaluation_periods: Annotated[int, typer.Option(help="N: periods evaluated.")] = 1,
    datapoints_to_alarm: Annotated[
        int | None, typer.Option(help="M: breaching periods (of N) that alarm.")
    ] = None,
    treat_missing_data: Annotated[
        str, typer.Option(help="missing|ignore|breaching|notBreaching.")
    ] = "missing",
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help="STATE=log|retrain|webhook:URL (repeatable)."),
    ] = None,
    description: Annotated[str, typer.Option(help="What the alarm is for.")] = "",
    replace: Annotated[bool, typer.Option("--replace", help="Replace an existing alarm.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an alarm on a metric."""
    definition = AlarmDefinition(
        name=name,
        namespace=namespace,
        metric_name=metric,
        dimensions=parse_dimensions(dimension),
        statistic=statistic,  # type: ignore[arg-type]  # validated by AlarmDefinition
        comparison=comparison,  # type: ignore[arg-type]
        threshold=threshold,
        period_s=period,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        treat_missing_data=treat_missing_data,  # type: ignore[arg-type]
        actions=_actions(action),
        description=description,
    )
    ws = workspace()
    emit(ws.alarms.create(definition, replace=replace), as_json, _render_alarm)


@app.command("list")
def list_alarms(as_json: JsonOpt = False) -> None:
    """All alarms and their states."""
    ws = workspace()
    alarms = ws.alarms.list_alarms()
    emit(
        {"alarms": alarms},
        as_json,
        lambda _: table(
            "alarms",
            ["name", "state", "metric", "rule", "updated"],
            [
                [
                    a["name"],
                    a["state"],
                    f"{a['namespace']} {a['metric_name']}",
                    f"{a['statistic']} {a['comparison']} {a['threshold']:g} "
                    f"({a['datapoints_to_alarm']}/{a['evaluation_periods']} x {a['period_s']} s)",
                    a["updated_at"],
                ]
                for a in alarms
            ],
        ),
    )


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Alarm name.")], as_json: JsonOpt = False
) -> None:
    """One alarm: definition and current state."""
    ws = workspace()
    emit(ws.alarms.get(name), as_json, _render_alarm)


@app.command("history")
def history(
    name: Annotated[str, typer.Argument(help="Alarm name.")],
    limit: Annotated[int, typer.Option(min=1, help="Newest N transitions.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """State transitions of an alarm, newest first, with reasons and action results."""
    ws = workspace()
    found = ws.alarms.history(name, limit=limit)
    emit(
        {"alarm": name, "transitions": found},
        as_json,
        lambda _: table(
            f"history of {name} (newest first)",
            ["time", "from", "to", "reason", "actions"],
            [
                [
                    t.time.isoformat(timespec="seconds"),
                    t.old_state,
                    t.new_state,
                    t.reason,
                    ", ".join(f"{a['target']}:{'ok' if a['ok'] else 'failed'}" for a in t.actions),
                ]
                for t in found
            ],
        ),
    )


@app.command("evaluate")
def evaluate(
    name: Annotated[str | None, typer.Argument(help="Alarm name (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate alarms now; print the transitions that happened."""
    ws = workspace()
    if name is None:
        transitions = ws.alarms.evaluate_all()
    else:
        t = ws.alarms.evaluate(name)
        transitions = [t] if t is not None else []
    emit(
        {"transitions": transitions},
        as_json,
        lambda _: console.print(
            "\n".join(
                f"{t.alarm}: {t.old_state} -> {t.new_state} ({t.reason})" for t in transitions
            )
            or "no state changed"
        ),
    )


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="Alarm name.")], as_json: JsonOpt = False
) -> None:
    """Delete an alarm (its history stays readable in the record store)."""
    ws = workspace()
    ws.alarms.delete(name)
    emit({"deleted": name}, as_json, lambda _: console.print(f"alarm {name} deleted"))
