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

    Raises:
        InvalidInputError: a required column is missing, an id is missing, a number column
            holds text, or a medication column holds a value other than No/Steady/Up/Down.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"data lacks {len(missing)} required column(s): {', '.join(missing)}",
            hint="the batch needs every column of the UCI diabetic_data.csv "
            "(the label column 'readmitted' is needed for training only)",
        )
    exprs: list[pl.Expr] = []
    for name in INTEGER_COLUMNS:
        exprs.append(_integer_expr(frame, name))
    for name in STRING_COLUMNS:
        exprs.append(_string_expr(frame, name))
    typed = frame.with_columns(exprs)
    for name in INTEGER_COLUMNS:
        _check_cast(frame.get_column(name), typed.get_column(name), name)
    for name in ID_COLUMNS:
        n_null = typed.get_column(name).null_count()
        if n_null:
            raise InvalidInputError(
                f"{n_null} row(s) have no {name}",
                hint=f"every row needs an {name}; drop rows without one",
            )
    _check_medications(typed)
    return typed


def _integer_expr(frame: pl.DataFrame, name: str) -> pl.Expr:
    dtype = frame.schema[name]
    col = pl.col(name)
    if dtype == pl.String:
        col = col.str.strip_chars().replace(MISSING, None)
    elif not (dtype.is_numeric() or dtype == pl.Null):
        raise InvalidInputError(
            f"column {name!r} must hold whole numbers, found type {dtype}",
            hint="fix the column type in the input file",
        )
    return col.cast(pl.Int64, strict=False).alias(name)


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


def _string_expr(frame: pl.DataFrame, name: str) -> pl.Expr:
    dtype = frame.schema[name]
    if not (dtype == pl.String or dtype.is_numeric() or dtype == pl.Null):
        raise InvalidInputError(
            f"column {name!r} must hold text, found type {dtype}",
            hint="fix the column type in the input file",
        )
    # Null and `?` are the same thing in this data: a missing value.
    return pl.col(name).cast(pl.String).fill_null(MISSING).alias(name)


def _check_medications(frame: pl.DataFrame) -> None:
    allowed = [*DOSE_VALUES, MISSING]
    for name in MEDICATION_COLUMNS:
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
