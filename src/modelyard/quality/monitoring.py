"""Baselines from frames, and the whole check of a batch against a baseline. Pure: no I/O.

``run_check`` = align columns -> one statistics pass over the current batch with the
baseline's kinds -> drift per feature -> dataset verdict -> quality metrics -> chart data.
Bad input never raises here: missing/extra columns, type changes, all-missing columns and
empty batches end up in the report, saying what could not be tested and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from modelyard.errors import InvalidInputError
from modelyard.quality.checks import compatible_kind, quality_metrics
from modelyard.quality.columns import ColumnSummary, Kind, SummaryOptions, summarize
from modelyard.quality.drift import DriftConfig, FeatureDrift, column_drift, dataset_drift
from modelyard.quality.model import Baseline, DriftReport

__all__ = ["build_baseline", "run_check"]

_CHART_BINS = 20
_CHART_CATEGORIES = 12


def build_baseline(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    kinds: Mapping[str, Kind] | None = None,
    options: SummaryOptions | None = None,
    psi_bins: int = 10,
) -> Baseline:
    """The baseline of a reference frame (one statistics pass).

    Raises:
        InvalidInputError: the frame has no columns or no rows, or a bad ``kinds`` entry.
    """
    summary = summarize(frame, kinds=kinds, options=options)
    if not summary.columns:
        raise InvalidInputError("the reference data has no columns", hint="check the file")
    if summary.rows == 0:
        raise InvalidInputError(
            "the reference data has no rows; a baseline needs at least one",
            hint="build the baseline from the training data",
        )
    return Baseline(summary, psi_bins)


def run_check(
    baseline: Baseline, frame: pl.DataFrame | pl.LazyFrame, config: DriftConfig | None = None
) -> DriftReport:
    """Drift and quality of ``frame`` against ``baseline`` (nothing stored)."""
    config = config or DriftConfig()
    data = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    ref_cols = baseline.summary.columns
    missing = tuple(c for c in ref_cols if c not in data.columns)
    extra = tuple(c for c in data.columns if c not in ref_cols)
    checkable: dict[str, Kind] = {}
    type_changed: list[FeatureDrift] = []
    for name, ref in ref_cols.items():
        if name not in data.columns:
            continue
        dtype = data.schema[name]
        all_missing = data.height > 0 and data[name].null_count() == data.height
        if compatible_kind(ref.kind, dtype) or all_missing:  # nothing there to contradict
            if all_missing and not compatible_kind(ref.kind, dtype):
                data = data.with_columns(pl.lit(None).alias(name))
            checkable[name] = "categorical" if ref.kind == "text" else ref.kind
        else:
            type_changed.append(
                FeatureDrift(
                    column=name,
                    kind=ref.kind,
                    tested=False,
                    drifted=True,
                    reasons=("type_changed",),
                    reason=f"type changed: reference is {ref.kind} ({ref.dtype}), "
                    f"current is {dtype}",
                    missing_rate_ref=ref.missing_rate,
                )
            )
    current = summarize(
        data,
        columns=list(checkable),
        kinds=checkable,
        options=baseline.summary.options,
    )
    features: list[FeatureDrift] = []
    for name in ref_cols:
        if name in checkable:
            features.append(column_drift(ref_cols[name], current.columns[name], config))
        else:
            features.extend(f for f in type_changed if f.column == name)
    verdict = dataset_drift(features, config)
    quality = quality_metrics(baseline.summary, current, data)
    not_tested = [{"column": c, "reason": "missing from the current data"} for c in missing] + [
        {"column": f.column, "reason": f.reason or ""} for f in features if not f.tested
    ]
    notes: list[str] = []
    if data.height == 0:
        notes.append("the current batch has no rows: no distribution could be tested")
    elif data.height < 30:
        notes.append(f"the current batch has only {data.height} row(s): tests have little power")
    if extra:
        notes.append(f"columns not in the baseline were not checked: {', '.join(extra)}")
    order = sorted(features, key=lambda f: (not f.drifted, -(f.score or 0.0)))
    charts = tuple(
        _chart(ref_cols[f.column], current.columns[f.column], f)
        for f in order
        if f.tested and f.column in current.columns
    )
    return DriftReport(
        features=tuple(features),
        dataset=verdict,
        quality=quality,
        config=config,
        reference_rows=baseline.rows,
        current_rows=data.height,
        missing_columns=missing,
        extra_columns=extra,
        not_tested=tuple(not_tested),
        charts=charts,
        notes=tuple(notes),
    )


def _chart(ref: ColumnSummary, cur: ColumnSummary, feature: FeatureDrift) -> dict[str, Any]:
    """Binned shares of reference and current (statistics only, never rows)."""
    head: dict[str, Any] = {
        "column": ref.name,
        "kind": ref.kind,
        "drifted": feature.drifted,
        "method": feature.method,
        "score": feature.score,
    }
    if ref.numeric is not None and cur.numeric is not None:
        lo = min(v for v in (ref.numeric.min, cur.numeric.min) if v is not None)
        hi = max(v for v in (ref.numeric.max, cur.numeric.max) if v is not None)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, _CHART_BINS + 1)
        r = ref.numeric.distribution.histogram(edges)
        c = cur.numeric.distribution.histogram(edges)
        return {
            **head,
            "type": "histogram",
            "edges": [float(e) for e in edges],
            "reference": _shares(r),
            "current": _shares(c),
        }
    rc = ref.categories.counts if ref.categories else {}
    cc = cur.categories.counts if cur.categories else {}
    rt, ct = max(sum(rc.values()), 1), max(sum(cc.values()), 1)
    keys = sorted(set(rc) | set(cc), key=lambda k: -(rc.get(k, 0) / rt + cc.get(k, 0) / ct))
    shown = keys[:_CHART_CATEGORIES]
    rest_r = sum(rc.get(k, 0) for k in keys[_CHART_CATEGORIES:]) / rt
    rest_c = sum(cc.get(k, 0) for k in keys[_CHART_CATEGORIES:]) / ct
    labels = [*shown, "(other)"] if len(keys) > _CHART_CATEGORIES else shown
    ref_shares = [rc.get(k, 0) / rt for k in shown]
    cur_shares = [cc.get(k, 0) / ct for k in shown]
    if len(keys) > _CHART_CATEGORIES:
        ref_shares.append(rest_r)
        cur_shares.append(rest_c)
    return {
        **head,
        "type": "bars",
        "labels": labels,
        "reference": ref_shares,
        "current": cur_shares,
    }


def _shares(counts: np.ndarray[Any, np.dtype[np.float64]]) -> list[float]:
    total = float(counts.sum())
    return [float(c) / total if total else 0.0 for c in counts]
