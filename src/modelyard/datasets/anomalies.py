"""Data-quality anomalies of one dataset version (pure: DataFrames in, findings out).

Kinds: ``missing`` (missing rate above a threshold), ``duplicate_rows``, ``schema:<rule>``
(declared-schema violations, including duplicate keys), ``outliers`` (robust Tukey fences on
quartiles from the column statistics: outside ``[q1 - k·IQR, q3 + k·IQR]``, k = 3 by default;
columns whose IQR is 0 fall back to the median absolute deviation, and are skipped if that is
0 too), and ``unseen_categories`` (values absent from the previous approved version).

Examples never carry whole rows: duplicate rows are shown by row number, other kinds by the
offending values of that one column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from modelyard.datasets.model import Anomaly
from modelyard.datasets.rules import DatasetSchema, validate

__all__ = ["AnomalyOptions", "Fence", "detect"]

_EXAMPLES = 5


@dataclass(frozen=True)
class AnomalyOptions:
    """Thresholds of the detectors."""

    missing_threshold: float = 0.2  # a column with more missing values than this is flagged
    outlier_k: float = 3.0  # Tukey's "far out" fence
    mad_k: float = 5.0  # fallback: |x - median| > mad_k · 1.4826 · MAD


@dataclass(frozen=True)
class Fence:
    """Robust location/scale of one numeric column (from the column statistics)."""

    q1: float
    median: float
    q3: float
    mad: float | None = None


def detect(
    frame: pl.DataFrame,
    *,
    options: AnomalyOptions | None = None,
    schema: DatasetSchema | None = None,
    fences: Mapping[str, Fence] | None = None,
    previous: pl.DataFrame | None = None,
) -> list[Anomaly]:
    """Every anomaly of ``frame``; an empty list for clean data.

    Args:
        frame: the dataset version.
        options: thresholds.
        schema: the declared schema (its violations are anomalies).
        fences: quartiles per numeric column (from the column statistics).
        previous: the previous approved version, for unseen categories.
    """
    options = options or AnomalyOptions()
    found: list[Anomaly] = []
    found.extend(_missing(frame, options.missing_threshold))
    found.extend(_duplicate_rows(frame))
    if schema is not None:
        found.extend(
            Anomaly(f"schema:{v.rule}", v.column, v.count, v.examples, v.detail)
            for v in validate(frame, schema)
        )
    for name, fence in (fences or {}).items():
        if name in frame.columns and frame.schema[name].is_numeric():
            anomaly = _outliers(frame[name], fence, options)
            if anomaly is not None:
                found.append(anomaly)
    if previous is not None:
        found.extend(_unseen(frame, previous))
    return found


def _missing(frame: pl.DataFrame, threshold: float) -> list[Anomaly]:
    if frame.height == 0:
        return []
    out = []
    for name, nulls in zip(frame.columns, frame.null_count().row(0), strict=True):
        rate = nulls / frame.height
        if nulls and rate > threshold:
            out.append(
                Anomaly(
                    "missing",
                    name,
                    int(nulls),
                    (),
                    f"{rate:.1%} missing, above the {threshold:.0%} threshold",
                )
            )
    return out


def _duplicate_rows(frame: pl.DataFrame) -> list[Anomaly]:
    if frame.height < 2:
        return []
    mask = frame.is_duplicated()
    duplicated = int(mask.sum())
    if not duplicated:
        return []
    extra = frame.height - frame.unique().height
    rows = mask.arg_true().head(_EXAMPLES).to_list()
    return [
        Anomaly(
            "duplicate_rows",
            None,
            extra,
            tuple(f"row {r}" for r in rows),
            f"{duplicated} rows take part in duplicates; {extra} are extra copies",
        )
    ]


def _outliers(series: pl.Series, fence: Fence, options: AnomalyOptions) -> Anomaly | None:
    values = series.drop_nulls().cast(pl.Float64)
    iqr = fence.q3 - fence.q1
    if iqr > 0:
        low, high = fence.q1 - options.outlier_k * iqr, fence.q3 + options.outlier_k * iqr
        how = f"outside Tukey fences [{low:.6g}, {high:.6g}] (k={options.outlier_k:g}·IQR)"
    elif fence.mad:
        spread = options.mad_k * 1.4826 * fence.mad
        low, high = fence.median - spread, fence.median + spread
        how = f"more than {options.mad_k:g} robust SDs from the median {fence.median:.6g}"
    else:
        return None  # no spread at all: every deviation would be "extreme"
    outside = values.filter((values < low) | (values > high))
    if not outside.len():
        return None
    examples = tuple(
        outside.unique().sort().gather_every(max(1, outside.n_unique() // _EXAMPLES)).to_list()
    )[:_EXAMPLES]
    return Anomaly("outliers", series.name, outside.len(), examples, how)


def _unseen(frame: pl.DataFrame, previous: pl.DataFrame) -> list[Anomaly]:
    out = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String or name not in previous.columns:
            continue
        known = previous[name].cast(pl.String).drop_nulls().unique().to_list()
        current = frame[name].drop_nulls()
        unseen = current.filter(~current.is_in(known))
        if unseen.len():
            values = unseen.unique(maintain_order=True)
            out.append(
                Anomaly(
                    "unseen_categories",
                    name,
                    unseen.len(),
                    tuple(values.head(_EXAMPLES).to_list()),
                    f"{values.len()} values not in the previous approved version",
                )
            )
    return out
