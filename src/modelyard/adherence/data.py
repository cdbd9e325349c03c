"""Reading and checking UCI-shaped encounter data (zip, CSV, Parquet or a Polars frame).

Every entry point returns a frame with the source columns typed: the id and count columns
as Int64, everything else as text with ``?`` kept as the source's missing-value code. Extra
columns (a label column, a site's PDC column) are kept; :func:`check_batch` decides whether a
prediction batch may carry them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from modelyard.adherence.schema import (
    DOSE_VALUES,
    ID_COLUMNS,
    INTEGER_COLUMNS,
    MEDICATION_COLUMNS,
    MISSING,
    REQUIRED_COLUMNS,
    STRING_COLUMNS,
)
from modelyard.errors import InvalidInputError

__all__ = ["check_batch", "coerce_frame", "load_uci"]

_DATA_MEMBER = "diabetic_data.csv"


def load_uci(source: str | Path | pl.DataFrame, *, n_rows: int | None = None) -> pl.DataFrame:
    """Read UCI encounters from the distribution zip, a CSV, a Parquet file or a frame.

    Args:
        source: path to the UCI zip (``diabetic_data.csv`` inside), a ``.csv`` or
            ``.parquet`` file, or an already loaded ``pl.DataFrame``.
        n_rows: read only the first ``n_rows`` data rows (files only).

    Raises:
        InvalidInputError: unreadable file, unknown format, missing columns or values of the
            wrong type.
    """
    if isinstance(source, pl.DataFrame):
        frame = source if n_rows is None else source.head(n_rows)
        return coerce_frame(frame)
    path = Path(source)
    if not path.is_file():
        raise InvalidInputError(
            f"no data file at {str(path)!r}", hint="pass the UCI zip, a CSV or a Parquet file"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".zip":
            frame = _read_zip(path, n_rows)
        elif suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, n_rows=n_rows)
        elif suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(path, n_rows=n_rows)
        else:
            raise InvalidInputError(
                f"unknown data format {suffix!r} for {path.name!r}",
                hint="use .zip (UCI distribution), .csv or .parquet",
            )
    except (pl.exceptions.PolarsError, OSError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(
            f"cannot read {path.name!r}: {exc}", hint="check that the file is complete"
        ) from None
    return coerce_frame(frame)


def _read_zip(path: Path, n_rows: int | None) -> pl.DataFrame:
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if n.endswith(_DATA_MEMBER)]
        if not members:
            raise InvalidInputError(
                f"{path.name!r} holds no {_DATA_MEMBER}",
                hint="pass the UCI 'Diabetes 130-US hospitals' distribution zip",
            )
        payload = archive.read(members[0])
    return pl.read_csv(io.BytesIO(payload), infer_schema=False, n_rows=n_rows)


def coerce_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Type the source columns of ``frame``; keep any other column as it is.

    Cheap on a frame that is already typed (what this function returns): the columns that
    need no conversion are left alone and the checks run in one pass each.

    Raises:
        InvalidInputError: a required column is missing, an id is missing, a number column
            holds text, or a medication column holds a value other than No/Steady/Up/Down.
    """
    present = set(frame.columns)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise InvalidInputError(
            f"data lacks {len(missing)} required column(s): {', '.join(missing)}",
            hint="the batch needs every column of the UCI diabetic_data.csv "
            "(the label column 'readmitted' is needed for training only)",
        )
    schema = frame.schema
    plan = _plan(tuple(schema[c] for c in REQUIRED_COLUMNS))
    # a text column without nulls needs no filling: leave it alone
    fills = [_FILL_MISSING[c] for c in plan.fill if frame.get_column(c).null_count()]
    if plan.lossy:
        lost = frame.select(plan.lossy_checks).row(0)
        for name, any_lost in zip(plan.lossy, lost, strict=True):
            if any_lost:
                after = frame.select(_integer_expr(name, schema[name])).to_series()
                _check_cast(frame.get_column(name), after, name)
    exprs = [*plan.exprs, *fills]
    typed = frame.with_columns(exprs) if exprs else frame.clone()
    for name in ID_COLUMNS:
        n_null = typed.get_column(name).null_count()
        if n_null:
            raise InvalidInputError(
                f"{n_null} row(s) have no {name}",
                hint=f"every row needs an {name}; drop rows without one",
            )
    _check_medications(typed)
    return typed


# Integer types whose cast to Int64 never loses a value (nothing to check after the cast).
_LOSSLESS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.Null)
_FILL_MISSING = {name: pl.col(name).fill_null(MISSING) for name in STRING_COLUMNS}


@dataclass(frozen=True)
class _Plan:
    """How to type a frame whose source columns have given types.

    Attributes:
        exprs: the conversions needed (columns already of the right type are left out).
        fill: text columns already of type String (filled only if they hold nulls).
        lossy: integer columns whose cast may lose a value, in column order.
        lossy_checks: per column of ``lossy``, whether any value is lost (one row).
    """

    exprs: tuple[pl.Expr, ...]
    fill: tuple[str, ...]
    lossy: tuple[str, ...]
    lossy_checks: tuple[pl.Expr, ...]


@lru_cache(maxsize=64)
def _plan(dtypes: tuple[pl.DataType, ...]) -> _Plan:
    """The typing plan for source columns of these types (:data:`REQUIRED_COLUMNS` order).

    Raises:
        InvalidInputError: a column of a type that cannot hold its values (not cached).
    """
    by_name = dict(zip(REQUIRED_COLUMNS, dtypes, strict=True))
    exprs: list[pl.Expr] = []
    lossy: list[str] = []
    for name in INTEGER_COLUMNS:
        dtype = by_name[name]
        expr = _integer_expr(name, dtype)
        if dtype != pl.Int64:
            exprs.append(expr)
        if not any(dtype == ok for ok in _LOSSLESS):
            lossy.append(name)
    fill: list[str] = []
    for name in STRING_COLUMNS:
        expr = _string_expr(name, by_name[name])
        if by_name[name] == pl.String:
            fill.append(name)
        else:
            exprs.append(expr)
    checks = tuple(_lost(name, by_name[name]).any().alias(name) for name in lossy)
    return _Plan(tuple(exprs), tuple(fill), tuple(lossy), checks)


def _integer_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.String:
        col = col.str.strip_chars().replace(MISSING, None)
    elif not (dtype.is_numeric() or dtype == pl.Null):
        raise InvalidInputError(
            f"column {name!r} must hold whole numbers, found type {dtype}",
            hint="fix the column type in the input file",
        )
    return col.cast(pl.Int64, strict=False).alias(name)


def _lost(name: str, dtype: pl.DataType) -> pl.Expr:
    """Rows whose value the cast to Int64 loses: the expression form of :func:`_check_cast`."""
    before = pl.col(name)
    if dtype == pl.String:
        before = before.str.strip_chars().replace(MISSING, None)
    lost = before.cast(pl.Int64, strict=False).is_null() & before.is_not_null()
    if dtype.is_float():
        lost = lost | (before.is_not_null() & (before != before.round(0)))
    return lost


def _check_cast(before: pl.Series, after: pl.Series, name: str) -> None:
    if before.dtype == pl.String:
        before = before.str.strip_chars().replace(MISSING, None)
    lost = after.is_null() & before.is_not_null()
    if before.dtype.is_float():
        lost = lost | (before.is_not_null() & (before != before.round(0)))
    if lost.any():
        example = before.filter(lost).head(1).to_list()[0]
        raise InvalidInputError(
            f"column {name!r} must hold whole numbers, found {example!r} "
            f"({int(lost.sum())} bad value(s))",
            hint="fix or drop those rows",
        )


def _string_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    if not (dtype == pl.String or dtype.is_numeric() or dtype == pl.Null):
        raise InvalidInputError(
            f"column {name!r} must hold text, found type {dtype}",
            hint="fix the column type in the input file",
        )
    # Null and `?` are the same thing in this data: a missing value.
    return pl.col(name).cast(pl.String).fill_null(MISSING).alias(name)


_MEDICATION_VALUES = pl.Enum([*DOSE_VALUES, MISSING])
# Per medication column: how many values are not allowed (the column holds no nulls).
_MEDICATION_CHECKS = tuple(
    pl.col(m).cast(_MEDICATION_VALUES, strict=False).null_count() for m in MEDICATION_COLUMNS
)


def _check_medications(frame: pl.DataFrame) -> None:
    """``frame``: typed (medication columns are text without nulls)."""
    n_bad = frame.select(_MEDICATION_CHECKS).row(0)
    allowed = [*DOSE_VALUES, MISSING]
    for name, n in zip(MEDICATION_COLUMNS, n_bad, strict=True):
        if not n:
            continue
        col = frame.get_column(name)
        bad = col.filter(~col.is_in(allowed))
        if bad.len():
            raise InvalidInputError(
                f"medication column {name!r} holds {bad[0]!r}; allowed: "
                f"{', '.join(DOSE_VALUES)} (or '?' for missing)",
                hint="medication columns say whether a brand is taken and how its dose changed",
            )


def check_batch(frame: pl.DataFrame, *, allowed_extra: Iterable[str] = ()) -> None:
    """Refuse a prediction batch that is empty, has duplicate encounters or unknown columns.

    Raises:
        InvalidInputError: zero rows, a duplicated encounter_id, or a column that is neither
            a source column nor in ``allowed_extra``.
    """
    if frame.height == 0:
        raise InvalidInputError(
            "the batch has no rows", hint="pass at least one encounter to predict"
        )
    known = {*REQUIRED_COLUMNS, *allowed_extra}
    extra = [c for c in frame.columns if c not in known]
    if extra:
        raise InvalidInputError(
            f"the batch has {len(extra)} unknown column(s): {', '.join(extra[:10])}",
            hint="drop them, or pass extra_columns='ignore' to predict()",
        )
    ids = frame.get_column("encounter_id")
    if ids.n_unique() != ids.len():
        dup = ids.filter(ids.is_duplicated()).head(1).to_list()[0]
        raise InvalidInputError(
            f"encounter_id {dup} appears more than once in the batch",
            hint="each encounter must appear once",
        )
