"""``modelyard metrics list|query``: the local metrics time series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from modelyard.alerts.model import STATISTICS
from modelyard.cli.output import JsonOpt, emit, table, workspace
from modelyard.errors import InvalidInputError

app = typer.Typer(help="Published metrics (drift and quality scores).", no_args_is_help=True)

DimensionOpt = Annotated[
    list[str] | None, typer.Option("--dimension", help="NAME=VALUE (repeatable).")
]


def parse_dimensions(specs: list[str] | None) -> dict[str, str]:
    """``["model=adherence", "version=1"]`` -> dict; refuses anything else."""
    out: dict[str, str] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise InvalidInputError(
                f"dimension {spec!r} is not NAME=VALUE", hint="e.g. --dimension model=adherence"
            )
        out[name] = value
    return out


def parse_time(text: str | None, what: str, default: datetime) -> datetime:
    if text is None:
        return default
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"{what} {text!r} is not an ISO date/time", hint="e.g. 2026-01-31T12:00:00+00:00"
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@app.command("list")
def list_metrics(
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every metric series published (namespace, name, dimensions)."""
    ws = workspace()
    found = ws.metrics.list_metrics(namespace)
    emit(
        {"metrics": found},
        as_json,
        lambda _: table(
            "metrics",
            ["namespace", "metric", "dimensions"],
            [
                [
                    m["namespace"],
                    m["metric_name"],
                    ", ".join(f"{k}={v}" for k, v in sorted(m["dimensions"].items())),
                ]
                for m in found
            ],
        ),
    )


@app.command("query")
def query(
    metric: Annotated[str, typer.Option("--metric", help="Metric name, e.g. DriftScore.")],
    namespace: Annotated[str, typer.Option(help="Namespace.")] = "modelyard/monitoring",
    dimension: DimensionOpt = None,
    start: Annotated[str | None, typer.Option(help="ISO start (default: 24 h ago).")] = None,
    end: Annotated[str | None, typer.Option(help="ISO end (default: now).")] = None,
    period: Annotated[int, typer.Option(min=1, help="Period in seconds.")] = 300,
    statistic: Annotated[
        str | None, typer.Option(help=f"Only this statistic ({', '.join(STATISTICS)}).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-period statistics of one series (exact dimensions)."""
    if statistic is not None and statistic not in STATISTICS:
        raise InvalidInputError(
            f"unknown statistic {statistic!r}", hint=f"use one of {', '.join(STATISTICS)}"
        )
    ws = workspace()
    now = datetime.now(UTC)
    t1 = parse_time(end, "--end", now + timedelta(seconds=1))
    t0 = parse_time(start, "--start", t1 - timedelta(days=1))
    points = ws.metrics.query(
        namespace,
        metric,
        dimensions=parse_dimensions(dimension),
        start=t0,
        end=t1,
        period_s=period,
    )
    rows = [p.to_dict() for p in points]
    if statistic is not None:
        rows = [{"timestamp": r["timestamp"], statistic: r[statistic]} for r in rows]
    stats = [statistic] if statistic else ["SampleCount", "Average", "Minimum", "Maximum", "Sum"]
    emit(
        {
            "namespace": namespace,
            "metric_name": metric,
            "dimensions": parse_dimensions(dimension),
            "period_s": period,
            "datapoints": rows,
        },
        as_json,
        lambda _: table(
            f"{namespace} {metric}",
            ["period start", *stats],
            [[r["timestamp"], *(f"{r[s]:.6g}" for s in stats)] for r in rows],
        ),
    )
