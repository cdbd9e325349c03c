"""Data quality metrics of a current batch against a baseline. Pure: Polars + numpy, no I/O.

Metrics (per column, and overall):

- completeness: non-missing cells / cells (missing = null, NaN, ±inf; see ``columns``).
- type validity: of the non-missing cells, the share that parse as the baseline's kind
  (a numeric baseline column arriving as text counts the cells that cast to a number).
- range violations: numeric values below the baseline's min or above its max.
- unseen categories: categorical values the baseline never saw (count and share).
- row-count change: current rows / reference rows.
- missing and extra columns: what the current data lacks or adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from modelyard.quality.columns import ColumnSummary, FrameSummary, Kind

__all__ = ["ColumnQuality", "QualityReport", "compatible_kind", "quality_metrics"]


def compatible_kind(ref_kind: Kind, dtype: pl.DataType) -> bool:
    """Can a current column of ``dtype`` be summarised as the baseline's kind?"""
    if dtype == pl.Boolean:
        base = "boolean"
    elif dtype.is_numeric():
        base = "numeric"
    elif dtype in (pl.Date,) or isinstance(dtype, pl.Datetime):
        base = "datetime"
    elif dtype in (pl.String, pl.Null) or isinstance(dtype, pl.Categorical | pl.Enum):
        base = "categorical"
    else:
        base = "other"
    if ref_kind in ("numeric", "datetime", "other"):
        return base == ref_kind or (base == "categorical" and dtype == pl.Null)
    return base != "other"


@dataclass(frozen=True)
class ColumnQuality:
    column: str
    completeness: float
    missing: int
    type_validity: float | None
    invalid_type: int
    range_violations: int
    below_min: int
    above_max: int
    unseen_categories: int
    unseen_share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "completeness": self.completeness,
            "missing": self.missing,
            "type_validity": self.type_validity,
            "invalid_type": self.invalid_type,
            "range_violations": self.range_violations,
            "below_min": self.below_min,
            "above_max": self.above_max,
            "unseen_categories": self.unseen_categories,
            "unseen_share": self.unseen_share,
        }


@dataclass(frozen=True)
class QualityReport:
    rows_ref: int
    rows_cur: int
    row_count_ratio: float | None
    completeness: float
    type_validity: float
    range_violation_rate: float
    unseen_share: float
    missing_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    columns: tuple[ColumnQuality, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_ref": self.rows_ref,
            "rows_cur": self.rows_cur,
            "row_count_ratio": self.row_count_ratio,
            "completeness": self.completeness,
            "type_validity": self.type_validity,
            "range_violation_rate": self.range_violation_rate,
            "unseen_share": self.unseen_share,
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "columns": [c.to_dict() for c in self.columns],
        }


def quality_metrics(
    baseline: FrameSummary,
    current: FrameSummary,
    frame: pl.DataFrame,
) -> QualityReport:
    """Quality of ``frame`` (summarised as ``current``) against the ``baseline`` summary.

    ``current`` holds the columns that could be summarised with the baseline's kinds; columns
    of ``frame`` whose type changed are checked for type validity from the frame itself.
    """
    ref_cols = baseline.columns
    missing_cols = tuple(c for c in ref_cols if c not in frame.columns)
    extra_cols = tuple(c for c in frame.columns if c not in ref_cols)
    common = [c for c in ref_cols if c in frame.columns]
    raw = _raw_counts(frame, {c: ref_cols[c] for c in common})
    per_col: list[ColumnQuality] = []
    cells = valid_cells = typed_cells = numeric_cells = violations = 0
    unseen_total = categorical_cells = 0
    for name in common:
        ref = ref_cols[name]
        missing, non_missing, valid, below, above = raw[name]
        cur = current.columns.get(name)
        unseen = 0
        if cur is not None and ref.categories is not None and cur.categories is not None:
            unseen = sum(
                c for v, c in cur.categories.counts.items() if v not in ref.categories.counts
            )
            categorical_cells += cur.count
            unseen_total += unseen
        if cur is not None:
            missing = cur.missing  # the summary also counts NaN/inf as missing
            non_missing = cur.count
        rows = frame.height
        per_col.append(
            ColumnQuality(
                column=name,
                completeness=(rows - missing) / rows if rows else 0.0,
                missing=missing,
                type_validity=valid / non_missing if non_missing else None,
                invalid_type=non_missing - valid,
                range_violations=below + above,
                below_min=below,
                above_max=above,
                unseen_categories=unseen,
                unseen_share=unseen / non_missing if non_missing else 0.0,
            )
        )
        cells += rows
        valid_cells += rows - missing
        typed_cells += valid
        if ref.kind in ("numeric", "datetime"):
            numeric_cells += valid
            violations += below + above
    non_missing_cells = valid_cells
    return QualityReport(
        rows_ref=baseline.rows,
        rows_cur=frame.height,
        row_count_ratio=frame.height / baseline.rows if baseline.rows else None,
        completeness=valid_cells / cells if cells else 0.0,
        type_validity=typed_cells / non_missing_cells if non_missing_cells else 1.0,
        range_violation_rate=violations / numeric_cells if numeric_cells else 0.0,
        unseen_share=unseen_total / categorical_cells if categorical_cells else 0.0,
        missing_columns=missing_cols,
        extra_columns=extra_cols,
        columns=tuple(per_col),
    )


def _raw_counts(
    frame: pl.DataFrame, refs: Mapping[str, ColumnSummary]
) -> dict[str, tuple[int, int, int, int, int]]:
    """(missing, non-missing, type-valid, below min, above max) per column, one select."""
    exprs: list[pl.Expr] = []
    for i, (name, ref) in enumerate(refs.items()):
        col = pl.col(name)
        dtype = frame.schema[name]
        parsed = _parsed(col, dtype, ref.kind)
        exprs += [
            col.null_count().alias(f"{i}:missing"),
            col.is_not_null().sum().alias(f"{i}:present"),
            (col.is_not_null() & parsed.is_not_null()).sum().alias(f"{i}:valid"),
        ]
        if ref.numeric is not None and ref.numeric.min is not None and ref.kind == "numeric":
            lo, hi = ref.numeric.min, ref.numeric.max
            exprs += [
                (parsed < lo).sum().alias(f"{i}:below"),
                (parsed > hi).sum().alias(f"{i}:above"),
            ]
    result = frame.select(exprs) if exprs else pl.DataFrame()
    out: dict[str, tuple[int, int, int, int, int]] = {}
    for i, name in enumerate(refs):

        def get(key: str, i: int = i) -> int:
            return int(result[f"{i}:{key}"][0]) if f"{i}:{key}" in result.columns else 0

        out[name] = (get("missing"), get("present"), get("valid"), get("below"), get("above"))
    return out


def _parsed(col: pl.Expr, dtype: pl.DataType, kind: Kind) -> pl.Expr:
    """The column read as the baseline's kind; null where a value does not parse."""
    if kind == "numeric":
        as_float = (
            col.cast(pl.Float64, strict=False)
            if dtype.is_numeric() or dtype == pl.String
            else pl.lit(None, dtype=pl.Float64)
        )
        return pl.when(as_float.is_finite()).then(as_float)
    if kind == "datetime":
        if dtype == pl.String:
            return col.str.to_datetime(strict=False)
        if dtype == pl.Date or isinstance(dtype, pl.Datetime):
            return col
        return pl.lit(None, dtype=pl.Datetime("us"))
    if kind == "boolean":
        if dtype == pl.Boolean:
            return col
        as_text = col.cast(pl.String, strict=False).str.to_lowercase()
        return pl.when(as_text.is_in(["true", "false"])).then(as_text)
    return col
