"""Files to tables: CSV, gzip-compressed CSV, a zip holding a CSV, and Parquet.

Parsing is Polars' (``pl.read_csv`` / ``pl.read_parquet``); this module only sniffs the format,
unpacks archives into a scratch folder, and turns every way a file can be wrong into an
InvalidInputError that says what is wrong and what to do.
"""

from __future__ import annotations

import codecs
import gzip
import re
import shutil
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from modelyard.datasets.model import TYPE_NAMES, ReadOptions
from modelyard.errors import InvalidInputError

__all__ = ["ReadResult", "detect_format", "logical_type", "polars_type", "read_table"]

_SNIFF_BYTES = 1 << 20  # the first line (the header) must fit in 1 MiB
_INFER_ROWS = 10_000
_DUPLICATED = re.compile(r"^(.*)_duplicated_\d+$")

_POLARS_TYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime(),
}


@dataclass(frozen=True)
class ReadResult:
    """A table read from a file, and what the file was."""

    frame: pl.DataFrame
    format: str  # "csv" | "csv.gz" | "zip/csv" | "parquet"
    member: str | None = None


def polars_type(name: str) -> pl.DataType:
    """The Polars dtype for a logical type name.

    Raises:
        InvalidInputError: an unknown type name.
    """
    try:
        return _POLARS_TYPES[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown column type {name!r}",
            hint=f"use one of: {', '.join(TYPE_NAMES)}",
        ) from None


def logical_type(dtype: pl.DataType) -> str:
    """The logical type name of a Polars dtype (``int``, ``float``, ``str`` …)."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "str"
    return str(dtype).lower()


def detect_format(path: Path) -> str:
    """Sniff the format from the first bytes (not the file name).

    Raises:
        InvalidInputError: the path does not exist, is not a file, or is empty.
    """
    if not path.exists():
        raise InvalidInputError(
            f"file {str(path)!r} does not exist",
            hint="check the path (relative paths are relative to the current folder)",
        )
    if not path.is_file():
        raise InvalidInputError(f"{str(path)!r} is not a regular file", hint="give a file path")
    if path.stat().st_size == 0:
        raise InvalidInputError(
            f"file {str(path)!r} is empty (0 bytes)",
            hint="give a CSV with a header line and at least one data row, or a Parquet file",
        )
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip/csv"
    if head.startswith(b"\x1f\x8b"):
        return "csv.gz"
    if head == b"PAR1":
        return "parquet"
    return "csv"


def read_table(
    path: Path,
    options: ReadOptions,
    scratch: Path,
    schema_dtypes: Mapping[str, str] | None = None,
) -> ReadResult:
    """Read ``path`` into a DataFrame.

    Args:
        path: the file (CSV, CSV.gz, zip holding CSVs, Parquet).
        options: missing-value tokens, type overrides, zip member.
        scratch: an existing folder for unpacked archives (the caller removes it).
        schema_dtypes: types from a declared schema, applied to the columns the file has
            (a column it lacks is the rule engine's to report, not a read error).

    Raises:
        InvalidInputError: anything wrong with the file, with a hint saying what to do.
    """
    for column, type_name in options.dtypes.items():
        polars_type(type_name)  # unknown type names fail before any reading
        if not column:
            raise InvalidInputError("a type override names an empty column")
    fmt = detect_format(path)
    member: str | None = None
    soft = {c: t for c, t in (schema_dtypes or {}).items() if c not in options.dtypes}
    if fmt == "parquet":
        frame = _read_parquet(path, options)
        frame = frame.with_columns(
            pl.col(c).cast(polars_type(t), strict=False)
            for c, t in soft.items()
            if c in frame.columns and t == "str"
        )
    else:
        if fmt == "csv.gz":
            plain = _gunzip(path, scratch)
        elif fmt == "zip/csv":
            plain, member = _unzip(path, options.member, scratch)
        else:
            plain = path
        frame = _read_csv(
            plain, options, shown=str(path) + (f"!{member}" if member else ""), soft=soft
        )
    _check_frame(frame, str(path))
    return ReadResult(frame, fmt, member)


def _gunzip(path: Path, scratch: Path) -> Path:
    target = scratch / "unpacked.csv"
    try:
        with gzip.open(path, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInputError(
            f"{str(path)!r} looks gzip-compressed but cannot be decompressed: {exc}",
            hint="the file is truncated or corrupt; download or compress it again",
        ) from exc
    if target.stat().st_size == 0:
        raise InvalidInputError(f"{str(path)!r} decompresses to an empty file")
    return target


def _unzip(path: Path, member: str | None, scratch: Path) -> tuple[Path, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [i.filename for i in archive.infolist() if not i.is_dir()]
            csvs = [n for n in names if n.lower().endswith((".csv", ".csv.gz", ".txt"))]
            if member is not None:
                matches = [n for n in names if n == member or n.rsplit("/", 1)[-1] == member]
                if len(matches) != 1:
                    raise InvalidInputError(
                        f"zip {str(path)!r} has no member {member!r}"
                        + (" (the name is ambiguous)" if matches else "")
                        + f"; it holds: {', '.join(names) or 'nothing'}",
                        hint="pass one of the listed names with --member",
                    )
                chosen = matches[0]
            elif len(csvs) == 1:
                chosen = csvs[0]
            elif not csvs:
                raise InvalidInputError(
                    f"zip {str(path)!r} holds no CSV file"
                    + (f" (it holds: {', '.join(names[:10])})" if names else " (it is empty)"),
                    hint="zip exactly one .csv file, or add the CSV itself",
                )
            else:
                raise InvalidInputError(
                    f"zip {str(path)!r} holds {len(csvs)} CSV files: {', '.join(csvs[:10])}",
                    hint="choose one with --member NAME (Python: member=NAME)",
                )
            target = scratch / "member.csv"
            with archive.open(chosen) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InvalidInputError(
            f"{str(path)!r} is not a readable zip archive: {exc}",
            hint="the archive is truncated or corrupt; download it again",
        ) from exc
    if chosen.lower().endswith(".gz"):
        target = _gunzip(target, scratch)
    if target.stat().st_size == 0:
        raise InvalidInputError(f"zip member {chosen!r} of {str(path)!r} is empty")
    return target, chosen


def _sniff_text(path: Path, shown: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if b"\x00" in head:
        raise InvalidInputError(
            f"{shown!r} is binary, not a CSV text file (it contains NUL bytes)",
            hint="give a CSV (UTF-8 text), a gzip or zip of one, or a Parquet file",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{shown!r} is not UTF-8 text: byte 0x{head[exc.start]:02x} at offset {exc.start} "
            "is not valid UTF-8",
            hint="convert it to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 IN > OUT`",
        ) from exc
    if b"\n" not in head and b"\r" not in head and path.stat().st_size > _SNIFF_BYTES:
        raise InvalidInputError(
            f"{shown!r} has no line break in its first {_SNIFF_BYTES} bytes "
            f"({path.stat().st_size} bytes in all): it is not a CSV table",
            hint="a CSV needs a header line and one line per row; check the file's line endings",
        )


def _csv_kwargs(
    options: ReadOptions, header: list[str], soft: Mapping[str, str]
) -> dict[str, object]:
    null_values = options.null_values
    overrides = {c: polars_type(t) for c, t in soft.items() if c in header}
    overrides.update({c: polars_type(t) for c, t in options.dtypes.items()})
    return {
        "separator": options.separator,
        "null_values": [t for t in null_values if t != ""] or None,
        "empty_string_is_null": "" in null_values,
        "schema_overrides": overrides or None,
    }


def _read_csv(
    path: Path, options: ReadOptions, shown: str, soft: Mapping[str, str]
) -> pl.DataFrame:
    _sniff_text(path, shown)
    header: list[str] = []
    if soft:
        try:
            header = pl.read_csv(path, n_rows=0, separator=options.separator).columns
        except pl.exceptions.PolarsError:
            header = []  # the full read below reports what is wrong
    kwargs = _csv_kwargs(options, header, soft)
    try:
        try:
            frame = pl.read_csv(path, infer_schema_length=_INFER_ROWS, **kwargs)  # type: ignore[arg-type]
        except pl.exceptions.ComputeError as exc:
            if "could not parse" not in str(exc) or _names_override(str(exc), options):
                raise
            # a late value did not fit the type inferred from the first rows: infer from all
            frame = pl.read_csv(path, infer_schema_length=None, **kwargs)  # type: ignore[arg-type]
    except pl.exceptions.NoDataError as exc:
        raise InvalidInputError(
            f"{shown!r} has no data (no header line)",
            hint="give a CSV with a header line and at least one data row",
        ) from exc
    except pl.exceptions.PolarsError as exc:
        raise _explain_csv_error(exc, shown) from exc
    unknown = sorted(set(options.dtypes) - set(frame.columns))
    if unknown:
        raise InvalidInputError(
            f"type overrides name columns {shown!r} does not have: {', '.join(unknown)}",
            hint=f"its columns are: {', '.join(frame.columns[:20])}",
        )
    return frame


def _names_override(message: str, options: ReadOptions) -> bool:
    match = re.search(r"at column '([^']*)'", message)
    return bool(match and match.group(1) in options.dtypes)


def _explain_csv_error(exc: Exception, shown: str) -> InvalidInputError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "more fields" in text or "ragged" in text:
        return InvalidInputError(
            f"{shown!r} has ragged rows: a line has more fields than the header ({text})",
            hint="every line needs as many separators as the header; check quoting and "
            "the --separator",
        )
    if "utf-8" in text.lower() or "utf8" in text.lower():
        return InvalidInputError(
            f"{shown!r} is not valid UTF-8 text ({text})",
            hint="convert it to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 IN > OUT`",
        )
    if "could not parse" in text:
        return InvalidInputError(
            f"{shown!r}: {text}",
            hint="declare the column's type, e.g. --dtype COLUMN=str, or add the value to "
            "--missing if it means 'missing'",
        )
    return InvalidInputError(
        f"{shown!r} is not a readable CSV table: {text}",
        hint="check the separator, quoting and encoding (UTF-8)",
    )


def _read_parquet(path: Path, options: ReadOptions) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidInputError(
            f"{str(path)!r} is not a readable Parquet file: {str(exc).splitlines()[0]}",
            hint="the file is truncated or corrupt; write or download it again",
        ) from exc
    tokens = options.null_values
    string_columns = [c for c, t in frame.schema.items() if t == pl.String]
    if tokens and string_columns:
        frame = frame.with_columns(
            pl.when(pl.col(c).is_in(tokens)).then(None).otherwise(pl.col(c)).alias(c)
            for c in string_columns
        )
    if options.dtypes:
        missing = sorted(set(options.dtypes) - set(frame.columns))
        if missing:
            raise InvalidInputError(
                f"type overrides name columns the file does not have: {', '.join(missing)}"
            )
        try:
            frame = frame.with_columns(
                pl.col(c).cast(polars_type(t), strict=True) for c, t in options.dtypes.items()
            )
        except pl.exceptions.PolarsError as exc:
            raise InvalidInputError(
                f"{str(path)!r}: a column does not convert to its declared type: "
                f"{str(exc).splitlines()[0]}",
            ) from exc
    return frame


def _check_frame(frame: pl.DataFrame, shown: str) -> None:
    columns = set(frame.columns)
    duplicated = sorted(
        {m.group(1) for c in frame.columns if (m := _DUPLICATED.match(c)) and m.group(1) in columns}
    )
    if duplicated:
        raise InvalidInputError(
            f"{shown!r} has duplicate column names: {', '.join(duplicated)}",
            hint="rename the columns so that every header name is unique",
        )
    if any(c.strip() == "" for c in frame.columns):
        raise InvalidInputError(
            f"{shown!r} has a column with an empty name",
            hint="give every column a name in the header line",
        )
    if frame.width == 0:
        raise InvalidInputError(f"{shown!r} has no columns")
    if frame.height == 0:
        raise InvalidInputError(
            f"{shown!r} has a header but no data rows",
            hint="add at least one data row",
        )
