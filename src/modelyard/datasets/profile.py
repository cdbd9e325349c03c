"""Summaries, profiles, version comparison and the HTML profile report.

Statistics come from the one statistics pass of modelyard (``modelyard.quality.columns``);
drift scores from ``modelyard.quality.drift``. This module adds what only a profile needs:
correlations (Pearson for numbers, Cramér's V for categories), the missing-value
overview, identifier detection, and rendering. Pure: no I/O (the caller writes the HTML).

The report holds statistics only: no rows, and for identifier-like columns (``*_id``,
``*_nbr``, ``id``, or nearly every value distinct) no values at all (no min/max/quantiles/top
values), only counts.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from modelyard.datasets.anomalies import Fence
from modelyard.quality.columns import ColumnSummary, FrameSummary, summarize
from modelyard.quality.drift import DriftConfig, column_drift, dataset_drift

__all__ = [
    "build_profile",
    "compare",
    "fences",
    "frame_summary",
    "is_identifier",
    "present",
    "render_html",
]

_ID_NAME = re.compile(r"(^id$|_id$|^id_|_nbr$|_number$|_key$|^uuid|_uuid$)", re.IGNORECASE)
_SAMPLE_ROWS = 50_000  # associations are computed on a seeded sample of at most this many rows
_MAX_LEVELS = 50  # categorical columns with more levels are left out of Cramér's V
_TOP_K = 20
_BINS = 20


def frame_summary(frame: pl.DataFrame) -> FrameSummary:
    """The column statistics of a frame (one parallel Polars pass)."""
    return summarize(frame)


def is_identifier(column: ColumnSummary) -> bool:
    """True for identifier-like columns, whose values must not appear in reports."""
    if _ID_NAME.search(column.name) and column.kind not in ("boolean",):
        return True
    if column.kind in ("numeric", "text") and column.count >= 50:
        return column.distinct >= 0.9 * column.count and (
            column.kind == "text" or (column.dtype.lower().startswith(("i", "u")))
        )
    return False


def present(summary: FrameSummary, types: Mapping[str, str]) -> dict[str, Any]:
    """The presentable summary: every column with type, counts and its distribution."""
    columns = []
    for column in summary.columns.values():
        body = column.to_dict(bins=_BINS, top_k=_TOP_K, include_state=False)
        body["type"] = types.get(column.name, column.dtype)
        body["identifier"] = is_identifier(column)
        columns.append(body)
    return {"rows": summary.rows, "columns": columns}


def fences(summary: FrameSummary) -> dict[str, Fence]:
    """Quartiles, median and median absolute deviation of every numeric column."""
    out: dict[str, Fence] = {}
    for column in summary.columns.values():
        stats = column.numeric
        if column.kind != "numeric" or stats is None or stats.count == 0:
            continue
        q = stats.quantiles((0.25, 0.5, 0.75))
        q1, median, q3 = q["0.25"], q["0.5"], q["0.75"]
        if q1 is None or median is None or q3 is None:
            continue
        dist = stats.distribution
        deviations = np.abs(dist.values - median)
        order = np.argsort(deviations, kind="stable")
        cum = np.cumsum(dist.weights[order])
        mad = float(deviations[order][np.searchsorted(cum, cum[-1] / 2.0)]) if cum.size else 0.0
        out[column.name] = Fence(q1=q1, median=median, q3=q3, mad=mad)
    return out


def _sample_rows(height: int) -> np.ndarray[Any, Any] | None:
    """Seeded row indices for association statistics (None: use every row)."""
    if height <= _SAMPLE_ROWS:
        return None
    return np.sort(np.random.default_rng(0).choice(height, size=_SAMPLE_ROWS, replace=False))


def _column(frame: pl.DataFrame, name: str, rows: np.ndarray[Any, Any] | None) -> pl.Series:
    series = frame[name]
    return series.gather(rows) if rows is not None else series


def _pearson(
    frame: pl.DataFrame, summary: FrameSummary, rows: np.ndarray[Any, Any] | None = None
) -> dict[str, Any]:
    names = [
        c.name
        for c in summary.columns.values()
        if c.kind == "numeric" and c.distinct > 1 and not is_identifier(c)
    ]
    sample = pl.DataFrame([_column(frame, n, rows).cast(pl.Float64) for n in names])
    matrix: list[list[float | None]] = [[None] * len(names) for _ in names]
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    if pairs:
        row = sample.select(
            pl.corr(pl.col(names[i]), pl.col(names[j])).alias(f"{i}:{j}") for i, j in pairs
        ).row(0)
        for (i, j), value in zip(pairs, row, strict=True):
            clean = float(value) if value is not None and math.isfinite(value) else None
            matrix[i][j] = matrix[j][i] = clean
    for i in range(len(names)):
        matrix[i][i] = 1.0
    return {"method": "pearson", "columns": names, "matrix": matrix}


def _cramers_v(
    frame: pl.DataFrame, summary: FrameSummary, rows: np.ndarray[Any, Any] | None = None
) -> dict[str, Any]:
    """Cramér's V of every pair of low-cardinality categorical columns (missing is a level).

    V = sqrt(chi2 / (n * (min(r, c) - 1))) with Pearson's chi-square of the contingency table
    (equal to ``scipy.stats.contingency.association(table, method="cramer")``; the tests check
    it), computed with one ``bincount`` per pair so that hundreds of pairs stay fast.
    """
    names = [
        c.name
        for c in summary.columns.values()
        if c.kind in ("categorical", "boolean") and 1 < c.distinct <= _MAX_LEVELS
    ]
    codes: list[np.ndarray[Any, Any]] = []
    levels: list[int] = []
    for name in names:
        physical = _column(frame, name, rows).cast(pl.String).cast(pl.Categorical).to_physical()
        raw = physical.cast(pl.Int64).fill_null(-1).to_numpy()
        arr = np.unique(raw, return_inverse=True)[1].astype(np.int64)  # missing is a level
        codes.append(arr)
        levels.append(int(arr.max()) + 1 if arr.size else 0)
    matrix: list[list[float | None]] = [[None] * len(names) for _ in names]
    for i in range(len(names)):
        matrix[i][i] = 1.0
        for j in range(i + 1, len(names)):
            table = np.bincount(codes[i] * levels[j] + codes[j], minlength=levels[i] * levels[j])
            matrix[i][j] = matrix[j][i] = _cramer(table.reshape(levels[i], levels[j]))
    return {"method": "cramers_v", "columns": names, "matrix": matrix}


def _cramer(table: np.ndarray[Any, Any]) -> float | None:
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype(np.float64)
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(table.shape) - 1)))


def _missingness(frame: pl.DataFrame, summary: FrameSummary) -> dict[str, Any]:
    per_column = [
        {"column": c.name, "missing": c.missing, "missing_rate": c.missing_rate}
        for c in summary.columns.values()
    ]
    with_missing = [c.name for c in summary.columns.values() if c.missing > 0]
    rows_with_missing = (
        int(frame.select(pl.any_horizontal(pl.col(with_missing).is_null()).sum()).item())
        if with_missing
        else 0
    )
    return {
        "columns_with_missing": len(with_missing),
        "rows_with_missing": rows_with_missing,
        "rows_complete": frame.height - rows_with_missing,
        "cells_missing": int(sum(c.missing for c in summary.columns.values())),
        "cells": frame.height * frame.width,
        "per_column": per_column,
    }


def build_profile(
    frame: pl.DataFrame, summary: FrameSummary, types: Mapping[str, str]
) -> dict[str, Any]:
    """Summary + correlations + missing-value overview (JSON-able, values of identifiers
    removed)."""
    presented = present(summary, types)
    for body in presented["columns"]:
        if body["identifier"]:
            body["numeric"] = None
            body["categories"] = None
    rows = _sample_rows(frame.height)
    return {
        **presented,
        "correlations": {
            "numeric": _pearson(frame, summary, rows),
            "categorical": _cramers_v(frame, summary, rows),
            "sample_rows": frame.height if rows is None else int(rows.size),
        },
        "missing": _missingness(frame, summary),
    }


# -- comparison ---------------------------------------------------------------------------------


def _numeric_changes(a: ColumnSummary, b: ColumnSummary) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.numeric is None or b.numeric is None:
        return out
    qa = a.numeric.quantiles((0.5,))
    qb = b.numeric.quantiles((0.5,))
    for key, va, vb in (
        ("mean", a.numeric.mean, b.numeric.mean),
        ("std", a.numeric.std, b.numeric.std),
        ("min", a.numeric.min, b.numeric.min),
        ("max", a.numeric.max, b.numeric.max),
        ("median", qa["0.5"], qb["0.5"]),
    ):
        out[key] = {
            "a": va,
            "b": vb,
            "change": vb - va if va is not None and vb is not None else None,
        }
    return out


def _category_changes(a: ColumnSummary, b: ColumnSummary) -> dict[str, Any]:
    if a.categories is None or b.categories is None:
        return {}
    ta, tb = a.categories.total or 1, b.categories.total or 1
    keys = list(dict.fromkeys([*list(a.categories.counts)[:10], *list(b.categories.counts)[:10]]))
    shares = {
        k: {
            "a": a.categories.counts.get(k, 0) / ta,
            "b": b.categories.counts.get(k, 0) / tb,
            "change": b.categories.counts.get(k, 0) / tb - a.categories.counts.get(k, 0) / ta,
        }
        for k in keys
    }
    out: dict[str, Any] = {"shares": shares}
    if not a.categories.truncated and not b.categories.truncated:
        out["new_categories"] = sorted(set(b.categories.counts) - set(a.categories.counts))[:20]
        out["vanished_categories"] = sorted(set(a.categories.counts) - set(b.categories.counts))[
            :20
        ]
    return out


def compare(
    meta_a: Mapping[str, Any],
    summary_a: FrameSummary,
    meta_b: Mapping[str, Any],
    summary_b: FrameSummary,
    config: DriftConfig | None = None,
) -> dict[str, Any]:
    """Schema diff, row-count change, per-column statistic changes and drift of b against a."""
    config = config or DriftConfig()
    schema_a: Mapping[str, str] = meta_a["schema"]
    schema_b: Mapping[str, str] = meta_b["schema"]
    common = [c for c in schema_a if c in schema_b]
    columns = []
    drifts = []
    for name in common:
        ca, cb = summary_a.columns[name], summary_b.columns[name]
        ident = is_identifier(ca) or is_identifier(cb)
        entry: dict[str, Any] = {
            "column": name,
            "type": {"a": schema_a[name], "b": schema_b[name]},
            "missing_rate": {
                "a": ca.missing_rate,
                "b": cb.missing_rate,
                "change": cb.missing_rate - ca.missing_rate,
            },
            "distinct": {"a": ca.distinct, "b": cb.distinct, "change": cb.distinct - ca.distinct},
            "identifier": ident,
        }
        if not ident:
            entry["numeric"] = _numeric_changes(ca, cb) or None
            entry["categories"] = _category_changes(ca, cb) or None
            drift = column_drift(ca, cb, config)
            drifts.append(drift)
            entry["drift"] = drift.to_dict()
        else:
            entry["drift"] = None
        columns.append(entry)
    rows_a, rows_b = int(meta_a["rows"]), int(meta_b["rows"])
    overall = dataset_drift(drifts, config)
    return {
        "a": f"{meta_a['name']}@{meta_a['version']}",
        "b": f"{meta_b['name']}@{meta_b['version']}",
        "schema": {
            "added": [c for c in schema_b if c not in schema_a],
            "removed": [c for c in schema_a if c not in schema_b],
            "type_changed": [
                {"column": c, "a": schema_a[c], "b": schema_b[c]}
                for c in common
                if schema_a[c] != schema_b[c]
            ],
        },
        "rows": {
            "a": rows_a,
            "b": rows_b,
            "change": rows_b - rows_a,
            "change_rate": (rows_b - rows_a) / rows_a if rows_a else None,
        },
        "content_identical": meta_a["content_hash"] == meta_b["content_hash"],
        "columns": columns,
        "drift": {**overall.to_dict(), "config": config.to_dict()},
    }


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;font-size:13px}
th{color:#555;font-weight:600}.cols{display:flex;flex-wrap:wrap;gap:14px}
.col{border:1px solid #ddd;border-radius:6px;padding:10px;width:330px}
.col h3{font-size:14px;margin:0 0 6px;word-break:break-all}.muted{color:#777;font-size:12px}
.tag{background:#eee;border-radius:3px;padding:0 4px;font-size:11px}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _esc(value: Any) -> str:
    return html.escape(_fmt(value))


def _bars_svg(labels: list[str], values: list[float], *, width: int = 300) -> str:
    """Horizontal bars (categories, counts)."""
    height = 16 * len(labels) + 4
    top = max(values) if values and max(values) > 0 else 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        w = int((width - 190) * value / top)
        shown = str(int(value)) if float(value).is_integer() else _fmt(value)
        y = 2 + 16 * i
        text = label if len(label) <= 18 else label[:17] + "…"
        parts.append(
            f'<text x="0" y="{y + 11}" font-size="11">{html.escape(text)}</text>'
            f'<rect x="120" y="{y}" width="{max(w, 1)}" height="12" fill="#4c78a8"/>'
            f'<text x="{124 + w}" y="{y + 11}" font-size="10" fill="#555">{shown}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _histogram_svg(edges: list[float], counts: list[float], *, width: int = 300) -> str:
    height = 90
    if not counts:
        return _bars_svg(["(no values)"], [0.0])
    top = max(counts) or 1.0
    bar = (width - 10) / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 14}">']
    for i, count in enumerate(counts):
        h = (height - 4) * count / top
        parts.append(
            f'<rect x="{5 + i * bar:.1f}" y="{height - h:.1f}" width="{max(bar - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="#4c78a8"><title>[{_fmt(edges[i])}, {_fmt(edges[i + 1])}): '
            f"{_fmt(count)}</title></rect>"
        )
    parts.append(
        f'<text x="5" y="{height + 12}" font-size="10">{_esc(edges[0])}</text>'
        f'<text x="{width - 5}" y="{height + 12}" font-size="10" text-anchor="end">'
        f"{_esc(edges[-1])}</text></svg>"
    )
    return "".join(parts)


def _heatmap_svg(names: list[str], matrix: list[list[float | None]]) -> str:
    if not names:
        return '<p class="muted">not enough columns</p>'
    cell = max(8, min(22, 600 // len(names)))
    label = 130
    size = label + cell * len(names)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">']
    for i, name in enumerate(names):
        short = html.escape(name if len(name) <= 20 else name[:19] + "…")
        pos = label + cell * i + cell * 0.75
        font = min(11, cell)
        parts.append(
            f'<text x="{label - 4}" y="{pos:.1f}" font-size="{font}" text-anchor="end">'
            f"{short}</text>"
            f'<text transform="translate({pos:.1f},{label - 4}) rotate(-90)" '
            f'font-size="{font}">{short}</text>'
        )
        for j, value in enumerate(matrix[i]):
            if value is None:
                color = "#f4f4f4"
            else:
                v = max(-1.0, min(1.0, value))
                shade = int(255 * (1 - abs(v)))
                color = f"rgb({shade},{shade},255)" if v >= 0 else f"rgb(255,{shade},{shade})"
            parts.append(
                f'<rect x="{label + cell * j}" y="{label + cell * i}" width="{cell - 1}" '
                f'height="{cell - 1}" fill="{color}"><title>{html.escape(name)} / '
                f"{html.escape(names[j])}: {_fmt(value)}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _column_card(body: Mapping[str, Any]) -> str:
    rows = [
        ("type", body["type"]),
        ("kind", body["kind"]),
        ("count", body["count"]),
        ("missing", f"{body['missing']} ({body['missing_rate']:.1%})"),
        ("distinct", body["distinct"]),
    ]
    numeric = body.get("numeric")
    categories = body.get("categories")
    if body["identifier"]:
        chart = _bars_svg(
            ["distinct", "repeated", "missing"],
            [
                float(body["distinct"]),
                float(max(body["count"] - body["distinct"], 0)),
                float(body["missing"]),
            ],
        )
        note = '<p class="muted">identifier-like: values withheld, counts only</p>'
    elif numeric is not None:
        q = numeric["quantiles"]
        rows += [
            ("min / max", f"{_fmt(numeric['min'])} / {_fmt(numeric['max'])}"),
            ("mean ± std", f"{_fmt(numeric['mean'])} ± {_fmt(numeric['std'])}"),
            (
                "q25 / q50 / q75",
                f"{_fmt(q.get('0.25'))} / {_fmt(q.get('0.5'))} / {_fmt(q.get('0.75'))}",
            ),
        ]
        chart = _histogram_svg(numeric["histogram"]["edges"], numeric["histogram"]["counts"])
        note = ""
    elif categories is not None:
        top = categories["top"][:10]
        labels = [str(t["value"]) for t in top]
        values = [float(t["count"]) for t in top]
        rest = body["count"] - sum(int(t["count"]) for t in top)
        if rest > 0:
            labels.append("(other values)")
            values.append(float(rest))
        chart = _bars_svg(labels, values) if labels else _bars_svg(["(no values)"], [0.0])
        note = ""
    else:
        chart = _bars_svg(["present", "missing"], [float(body["count"]), float(body["missing"])])
        note = ""
    table = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return (
        f'<div class="col"><h3>{html.escape(body["name"])}</h3>{note}'
        f"<table>{table}</table>{chart}</div>"
    )


def render_html(profile: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """A self-contained HTML page (inline CSS and SVG, no scripts, no external assets)."""
    missing = profile["missing"]
    miss_cols = [m for m in missing["per_column"] if m["missing"] > 0]
    miss_chart = (
        _bars_svg(
            [m["column"] for m in miss_cols],
            [round(100 * m["missing_rate"], 2) for m in miss_cols],
            width=520,
        )
        if miss_cols
        else '<p class="muted">no missing values</p>'
    )
    corr = profile["correlations"]
    facts = [
        ("dataset", f"{meta['name']}@{meta['version']}"),
        ("rows × columns", f"{profile['rows']} × {len(profile['columns'])}"),
        ("content sha256", meta["content_hash"]),
        ("format", meta["format"]),
        ("created", f"{meta['created_at']} by {meta['created_by']}"),
        ("rows with any missing value", missing["rows_with_missing"]),
        ("missing cells", f"{missing['cells_missing']} of {missing['cells']}"),
    ]
    cards = "".join(_column_card(c) for c in profile["columns"])
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Profile of {html.escape(meta['name'])}@{meta['version']}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>Dataset profile: {html.escape(meta['name'])}@{meta['version']}</h1>"
        '<p class="muted">Statistics only: this report holds no rows and no identifier '
        "values.</p><table>"
        + "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
        + "</table><h2>Missing values (% of rows)</h2>"
        + miss_chart
        + "<h2>Correlations</h2><h3>Numeric (Pearson)</h3>"
        + _heatmap_svg(corr["numeric"]["columns"], corr["numeric"]["matrix"])
        + f"<h3>Categorical (Cramér's V, sample of {corr['sample_rows']} rows)</h3>"
        + _heatmap_svg(corr["categorical"]["columns"], corr["categorical"]["matrix"])
        + f'<h2>Columns</h2><div class="cols">{cards}</div></body></html>'
    )
