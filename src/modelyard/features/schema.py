"""Checking and coercing incoming rows against a feature group's schema (no I/O).

``conform(frame, spec)`` returns a frame with exactly the group's columns in canonical types
(keys, event time as UTC microseconds, features), or raises SchemaViolationError naming every
broken rule with the offending 1-based row numbers. All checks are vectorised Polars
expressions; nothing loops over rows.

Rules:
- entity key columns and the event-time column must be present and non-null;
- every value must convert to its declared type (strings are parsed; ints to float are fine,
  floats to int only when integral); float NaN is read as missing (null); ±inf is refused;
- a non-nullable feature must not be null;
- string keys must not contain control characters (they are joined with U+001F online);
- two rows of one batch with the same (key, event time) are refused as ambiguous (across
  batches the later ingestion wins; see docs/features.md).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from modelyard.errors import InvalidInputError, SchemaViolationError
from modelyard.features.model import FeatureGroupSpec, FeatureType

__all__ = ["DTYPES", "EVENT_DTYPE", "conform", "parse_datetimes"]

EVENT_DTYPE = pl.Datetime("us", "UTC")
DTYPES: dict[FeatureType, pl.DataType] = {
    FeatureType.INT64: pl.Int64(),
    FeatureType.FLOAT64: pl.Float64(),
    FeatureType.STRING: pl.String(),
    FeatureType.BOOL: pl.Boolean(),
    FeatureType.DATETIME: EVENT_DTYPE,
}
_ROW = "__modelyard_row"
_MAX_EXAMPLES = 10


def conform(frame: pl.DataFrame, spec: FeatureGroupSpec, *, source: str = "input") -> pl.DataFrame:
    """Check ``frame`` against ``spec``; return it in canonical column order and types.

    Raises:
        InvalidInputError: missing columns or a transformation that fails.
        SchemaViolationError: rows that break the schema (``violations`` names them).
    """
    frame = frame.with_row_index(_ROW, offset=1)
    derived = {f.name for f in spec.features if f.expr is not None}
    expected = [*spec.entity_key, spec.event_time, *spec.feature_names]
    missing = [c for c in expected if c not in frame.columns and c not in derived]
    if missing:
        raise InvalidInputError(
            f"{source} has no column(s) {missing}; the group {spec.name!r} needs "
            f"{[c for c in expected if c not in derived]} "
            f"(found {[c for c in frame.columns if c != _ROW]})",
            hint="rename the columns or fix the feature group definition",
        )
    targets: list[tuple[str, FeatureType, bool, str]] = [
        (k, t, False, "entity key") for k, t in zip(spec.entity_key, spec.key_types, strict=True)
    ]
    targets.append((spec.event_time, FeatureType.DATETIME, False, "event time"))
    targets += [(f.name, f.dtype, f.nullable, "feature") for f in spec.features]
    base = [t for t in targets if t[0] not in derived]
    violations: list[dict[str, Any]] = []
    bad_rows: set[int] = set()

    converted, checks = _conversions(frame, base, source)
    _collect(frame, frame, checks, violations, bad_rows)
    _raise_if(violations, bad_rows, frame.height, spec, source)
    frame = _apply_transforms(frame.with_columns(converted), spec, source)
    if derived:
        converted, checks = _conversions(frame, [t for t in targets if t[0] in derived], source)
        _collect(frame, frame, checks, violations, bad_rows)
        _raise_if(violations, bad_rows, frame.height, spec, source)
        frame = frame.with_columns(converted)
    raw = frame.select(pl.col(_ROW), *expected)
    keys = [*spec.entity_key, spec.event_time]
    dup = raw.filter(
        pl.struct(keys).is_duplicated() & pl.all_horizontal(pl.col(keys).is_not_null())
    )
    if dup.height:
        rows = dup[_ROW].head(_MAX_EXAMPLES).to_list()
        vals = [str(v) for v in dup.select(pl.struct(keys)).to_series().head(_MAX_EXAMPLES)]
        _add(
            violations,
            ",".join(keys),
            "duplicate (entity key, event time) in one batch",
            dup.height,
            rows,
            vals,
        )
        bad_rows.update(dup[_ROW].to_list())
    _raise_if(violations, bad_rows, frame.height, spec, source)
    return raw.drop(_ROW)


def _conversions(
    frame: pl.DataFrame, targets: list[tuple[str, FeatureType, bool, str]], source: str
) -> tuple[list[pl.Expr], list[tuple[str, str, pl.Expr]]]:
    converted: list[pl.Expr] = []
    checks: list[tuple[str, str, pl.Expr]] = []  # (column, rule, bad-row predicate)
    for name, dtype, nullable, role in targets:
        expr, bad_value = _convert(name, frame.schema[name], dtype, source, role)
        converted.append(expr.alias(name))
        if bad_value is not None:
            checks.append((name, f"value is not a valid {dtype.value}", bad_value))
        if not nullable:
            missing_value = expr.is_null()
            if bad_value is not None:
                missing_value = missing_value & ~bad_value.fill_null(False)
            checks.append((name, f"{role} is missing", missing_value))
        if role == "entity key" and dtype is FeatureType.STRING:
            checks.append(
                (name, "key contains a control character", expr.str.contains(r"[\x00-\x1f\x7f]"))
            )
    return converted, checks


def _collect(
    frame: pl.DataFrame,
    shown: pl.DataFrame,
    checks: list[tuple[str, str, pl.Expr]],
    violations: list[dict[str, Any]],
    bad_rows: set[int],
) -> None:
    """Evaluate every check in one pass; record the rows that fail each."""
    if not checks:
        return
    flags = frame.select(
        pl.col(_ROW),
        *(pred.fill_null(False).alias(f"__chk{i}") for i, (_, _, pred) in enumerate(checks)),
    )
    for i, (column, rule, _) in enumerate(checks):
        hit = flags.filter(pl.col(f"__chk{i}"))
        if hit.height == 0:
            continue
        rows = hit[_ROW].head(_MAX_EXAMPLES).to_list()
        values = shown.filter(pl.col(_ROW).is_in(rows))[column].to_list()
        _add(violations, column, rule, hit.height, rows, values)
        bad_rows.update(hit[_ROW].to_list())


def _raise_if(
    violations: list[dict[str, Any]],
    bad_rows: set[int],
    total: int,
    spec: FeatureGroupSpec,
    source: str,
) -> None:
    if not violations:
        return
    listed = "; ".join(
        f"{v['column']}: {v['rule']} ({v['count']} rows, e.g. rows {v['rows']})" for v in violations
    )
    raise SchemaViolationError(
        f"{len(bad_rows)} of {total} rows of {source} break the schema of feature "
        f"group {spec.name!r}: {listed}; nothing was ingested",
        violations=violations,
    )


def _add(
    violations: list[dict[str, Any]],
    column: str,
    rule: str,
    count: int,
    rows: list[int],
    values: list[Any],
) -> None:
    violations.append(
        {
            "column": column,
            "rule": rule,
            "count": count,
            "rows": rows,
            "examples": [{"row": r, "value": _show(v)} for r, v in zip(rows, values, strict=False)],
        }
    )


def _show(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


def _apply_transforms(frame: pl.DataFrame, spec: FeatureGroupSpec, source: str) -> pl.DataFrame:
    exprs = [pl.sql_expr(f.expr).alias(f.name) for f in spec.features if f.expr is not None]
    if not exprs:
        return frame
    try:
        return frame.with_columns(exprs)
    except pl.exceptions.PolarsError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInputError(
            f"a transformation of feature group {spec.name!r} failed on {source}: {first}",
            hint="check that the input has the columns the feature expressions use",
        ) from exc


def _convert(
    name: str, src: pl.DataType, dtype: FeatureType, source: str, role: str
) -> tuple[pl.Expr, pl.Expr | None]:
    """(converted expression, predicate of rows whose non-null value did not convert)."""
    col = pl.col(name)
    if src == pl.Null:
        return pl.lit(None, dtype=DTYPES[dtype]), None
    if dtype is FeatureType.STRING:
        if src in (pl.String, pl.Categorical, pl.Enum):
            return col.cast(pl.String), None
        raise _wrong_type(name, src, dtype, source, role)
    if src == pl.String:
        text = col.str.strip_chars()
        if dtype is FeatureType.BOOL:
            low = text.str.to_lowercase()
            conv = (
                pl.when(low.is_in(["true", "1", "yes"]))
                .then(True)
                .when(low.is_in(["false", "0", "no"]))
                .then(False)
                .otherwise(None)
            )
        elif dtype is FeatureType.DATETIME:
            conv = parse_datetimes(text)
        elif dtype is FeatureType.FLOAT64:
            conv = text.cast(pl.Float64, strict=False)
        else:
            conv = text.cast(pl.Int64, strict=False)
        bad = col.is_not_null() & (text != "") & conv.is_null()
        if dtype is FeatureType.FLOAT64:
            bad = bad | conv.is_infinite()
            conv = pl.when(conv.is_nan() | text.eq("")).then(None).otherwise(conv)
        else:
            conv = pl.when(text.eq("")).then(None).otherwise(conv)
        return conv, bad
    if dtype is FeatureType.DATETIME:
        if isinstance(src, pl.Datetime):
            tz = src.time_zone
            conv = (
                col.dt.replace_time_zone("UTC") if tz is None else col.dt.convert_time_zone("UTC")
            )
            return conv.cast(EVENT_DTYPE), None
        if src == pl.Date:
            return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), None
        raise _wrong_type(name, src, dtype, source, role)
    if dtype is FeatureType.BOOL:
        if src == pl.Boolean:
            return col, None
        raise _wrong_type(name, src, dtype, source, role)
    if not src.is_numeric() or src == pl.Boolean:
        raise _wrong_type(name, src, dtype, source, role)
    if dtype is FeatureType.FLOAT64:
        conv = col.cast(pl.Float64)
        return pl.when(conv.is_nan()).then(None).otherwise(conv), conv.is_infinite()
    # int64 target
    if src.is_integer():
        return col.cast(pl.Int64, strict=False), col.cast(pl.Int64, strict=False).is_null() & (
            col.is_not_null()
        )
    as_float = col.cast(pl.Float64)
    integral = as_float.is_finite() & (as_float == as_float.round(0))
    conv = pl.when(integral).then(as_float).otherwise(None).cast(pl.Int64, strict=False)
    bad = as_float.is_not_null() & ~as_float.is_nan() & conv.is_null()
    return pl.when(as_float.is_nan()).then(None).otherwise(conv), bad


_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def parse_datetimes(text: pl.Expr) -> pl.Expr:
    """ISO 8601 strings (mixed forms allowed; 'Z' or an offset, else UTC) to UTC µs."""
    normal = text.str.strip_chars().str.replace(r"Z$", "+00:00")
    return pl.coalesce(
        [
            normal.str.to_datetime(format=f, time_unit="us", time_zone="UTC", strict=False)
            for f in _DATETIME_FORMATS
        ]
    )


def _wrong_type(
    name: str, src: pl.DataType, dtype: FeatureType, source: str, role: str
) -> InvalidInputError:
    return SchemaViolationError(
        f"{role} column {name!r} of {source} has type {src}, expected {dtype.value}; "
        "every row is affected; nothing was ingested",
        violations=[
            {
                "column": name,
                "rule": f"column type {src} is not {dtype.value}",
                "count": None,
                "rows": [],
                "examples": [],
            }
        ],
        hint="convert the column (or fix the feature type in the definition)",
    )
