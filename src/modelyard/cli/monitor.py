"""``modelyard monitor drift|baseline|check|reports|show``: data quality and drift."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer

from modelyard.cli.output import JsonOpt, console, emit, table, workspace
from modelyard.datasets.model import ReadOptions
from modelyard.datasets.reading import read_table
from modelyard.errors import InvalidInputError
from modelyard.quality.columns import Kind
from modelyard.quality.drift import METHODS, DriftConfig, Method
from modelyard.quality.html import render_html
from modelyard.quality.model import DriftReport
from modelyard.quality.monitoring import build_baseline, run_check

app = typer.Typer(help="Data quality and drift: baselines, checks, reports.", no_args_is_help=True)

MissingOpt = Annotated[
    list[str] | None,
    typer.Option("--missing-token", help="A cell value read as missing (repeatable), e.g. '?'."),
]
CategoricalOpt = Annotated[
    list[str] | None,
    typer.Option("--categorical", help="Treat this column as categorical (repeatable)."),
]


def _read(path: Path, missing: list[str] | None) -> pl.DataFrame:
    options = ReadOptions(missing_tokens=tuple(dict.fromkeys(["", *(missing or [])])))
    with tempfile.TemporaryDirectory(prefix="modelyard-read-") as scratch:
        return read_table(path, options, Path(scratch)).frame


def _kinds(categorical: list[str] | None, frame: pl.DataFrame) -> dict[str, Kind]:
    unknown = [c for c in categorical or [] if c not in frame.columns]
    if unknown:
        raise InvalidInputError(
            f"--categorical names unknown column(s) {unknown}",
            hint=f"the columns are: {', '.join(frame.columns)}",
        )
    return {c: "categorical" for c in categorical or []}


def _config(
    methods: list[str] | None, drift_share: float, alpha: float, small_sample: int
) -> DriftConfig:
    chosen: dict[str, Method] = {}
    for spec in methods or []:
        col, sep, method = spec.partition("=")
        if not sep or method not in METHODS:
            raise InvalidInputError(
                f"--method {spec!r} is not COLUMN=METHOD",
                hint=f"methods: {', '.join(METHODS)}",
            )
        chosen[col] = method  # checked against METHODS above
    return DriftConfig(
        methods=chosen, drift_share=drift_share, alpha=alpha, small_sample=small_sample
    )


def _render_report(report: dict[str, Any]) -> None:
    verdict = "[red]DRIFT[/red]" if report["dataset_drift"] else "[green]no drift[/green]"
    console.print(
        f"{verdict}: drift score {report['drift_score']:.3f} "
        f"({len(report['drifted_features'])} of {report['tested_features']} features drifted)"
    )

    def fmt(v: Any) -> str:
        return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    table(
        "features",
        ["column", "kind", "method", "score", "p_value", "effect", "drifted", "signals / reason"],
        [
            [
                f["column"],
                f["kind"],
                f["method"] or "",
                fmt(f["score"]),
                fmt(f["p_value"]),
                fmt(f["effect_size"]),
                "yes" if f["drifted"] else "no",
                ", ".join(f["reasons"]) + (f" ({f['reason']})" if f["reason"] else ""),
            ]
            for f in report["features"]
        ],
    )
    q = report["quality"]
    console.print(
        f"quality: completeness {q['completeness']:.4f}, type validity {q['type_validity']:.4f}, "
        f"range violations {q['range_violation_rate']:.4f}, unseen {q['unseen_share']:.4f}, "
        f"rows {q['rows_cur']} (reference {q['rows_ref']})"
    )
    for col in report["missing_columns"]:
        console.print(f"[yellow]missing column:[/yellow] {col}")
    for col in report["extra_columns"]:
        console.print(f"[yellow]extra column (not checked):[/yellow] {col}")
    for note in report.get("notes", []):
        console.print(f"note: {note}")


def _summary(report: DriftReport) -> dict[str, Any]:
    body = report.to_dict()
    body.pop("charts", None)
    return body


@app.command("drift")
def drift(
    reference: Annotated[Path, typer.Option("--reference", help="Reference CSV/Parquet file.")],
    current: Annotated[Path, typer.Option("--current", help="Current CSV/Parquet file.")],
    missing_token: MissingOpt = None,
    categorical: CategoricalOpt = None,
    method: Annotated[
        list[str] | None, typer.Option("--method", help="COLUMN=METHOD override (repeatable).")
    ] = None,
    drift_share: Annotated[
        float, typer.Option(help="Dataset drifts when this share of features drifts.")
    ] = 0.5,
    alpha: Annotated[float, typer.Option(help="Significance level of KS / chi-square.")] = 0.05,
    small_sample: Annotated[
        int, typer.Option(help="Up to this many values: hypothesis tests; above: distances.")
    ] = 1000,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the HTML report here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare two files (no workspace needed): per-feature drift and a dataset verdict."""
    config = _config(method, drift_share, alpha, small_sample)
    ref = _read(reference, missing_token)
    cur = _read(current, missing_token)
    baseline = build_baseline(ref, kinds=_kinds(categorical, ref))
    report = run_check(baseline, cur, config)
    body = _summary(report)
    if html is not None:
        html.write_text(render_html(report.to_dict()), encoding="utf-8")
        body["html"] = str(html)
    emit(body, as_json, _render_report)


@app.command("baseline")
def baseline(
    model: Annotated[str, typer.Option("--model", help="Model name.")],
    version: Annotated[str, typer.Option("--version", help="Model version.")],
    data: Annotated[Path, typer.Option("--data", help="Reference CSV/Parquet file.")],
    missing_token: MissingOpt = None,
    categorical: CategoricalOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Store the baseline of a model version from reference data."""
    ws = workspace()
    frame = _read(data, missing_token)
    info = ws.monitor.create_baseline(
        frame, model=model, version=version, kinds=_kinds(categorical, frame), source=str(data)
    )
    emit(
        info,
        as_json,
        lambda _: console.print(
            f"baseline {info.id} for {info.model} v{info.version} (revision {info.revision}): "
            f"{info.rows} rows, {info.columns} columns"
        ),
    )


@app.command("check")
def check(
    model: Annotated[str, typer.Option("--model", help="Model name.")],
    data: Annotated[Path, typer.Option("--data", help="Current batch CSV/Parquet file.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Model version (default: latest baseline).")
    ] = None,
    batch_id: Annotated[str | None, typer.Option("--batch-id", help="Batch name.")] = None,
    missing_token: MissingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a batch against the model's baseline; store the report, publish metrics."""
    ws = workspace()
    frame = _read(data, missing_token)
    report = ws.monitor.check(frame, model=model, version=version, batch_id=batch_id)
    body = _summary(report)
    body["alarm_transitions"] = [t.to_dict() for t in ws.monitor.last_transitions]

    def render(_: Any) -> None:
        _render_report(body)
        console.print(f"report {report.id} stored")
        for t in ws.monitor.last_transitions:
            console.print(f"alarm {t.alarm}: {t.old_state} -> {t.new_state} ({t.reason})")

    emit(body, as_json, render)


def _when(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"{what} {text!r} is not an ISO date/time", hint="e.g. 2026-01-31T12:00:00+00:00"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


@app.command("reports")
def reports(
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    batch_id: Annotated[str | None, typer.Option("--batch-id", help="Only this batch.")] = None,
    since: Annotated[str | None, typer.Option(help="From this ISO time (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ISO time.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N reports.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List stored reports, newest first (by model, batch and time)."""
    ws = workspace()
    found = ws.monitor.list_reports(
        model=model,
        batch_id=batch_id,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        limit=limit,
    )
    emit(
        {"reports": found},
        as_json,
        lambda _: table(
            "monitoring reports (newest first)",
            ["id", "time", "model", "version", "batch", "drift", "score", "rows"],
            [
                [
                    r.id,
                    r.created_at.isoformat(timespec="seconds"),
                    r.model,
                    r.model_version,
                    r.batch_id or "",
                    "yes" if r.dataset_drift else "no",
                    f"{r.drift_score:.3f}",
                    r.current_rows,
                ]
                for r in found
            ],
        ),
    )


@app.command("show")
def show(
    report_id: Annotated[str, typer.Argument(help="Report id (from `monitor reports`).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the stored HTML page here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one stored report (and optionally save its HTML page)."""
    ws = workspace()
    report = ws.monitor.get_report(report_id)
    body = _summary(report)
    if html is not None:
        html.write_text(ws.monitor.get_report_html(report_id), encoding="utf-8")
        body["html"] = str(html)
    emit(body, as_json, _render_report)
