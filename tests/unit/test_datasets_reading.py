"""Reading files into tables: formats, options, and every kind of bad input."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import polars as pl
import pytest

from modelyard.datasets.model import ReadOptions
from modelyard.datasets.reading import detect_format, read_table
from modelyard.errors import InvalidInputError

CSV = b"id,code,test,score\n1,6,None,0.5\n2,?,>7,\n3,1,Norm,1.5\n"
UCI = ReadOptions(missing_tokens=("?",), keep_values=("None",), dtypes={"code": "str"})


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_csv_with_missing_tokens_kept_values_and_overrides(tmp_path: Path) -> None:
    frame = read_table(_write(tmp_path, "a.csv", CSV), UCI, tmp_path).frame
    assert frame.schema["code"] == pl.String
    assert frame["code"].to_list() == ["6", None, "1"]
    assert frame["test"].to_list() == ["None", ">7", "Norm"]  # None is a category
    assert frame["score"].to_list() == [0.5, None, 1.5]  # empty is still missing


def test_keep_value_wins_over_missing_token(tmp_path: Path) -> None:
    opts = ReadOptions(missing_tokens=("?", "None"), keep_values=("None",))
    frame = read_table(_write(tmp_path, "a.csv", CSV), opts, tmp_path).frame
    assert frame["test"].null_count() == 0


def test_gzip_zip_and_parquet_read_the_same_table(tmp_path: Path) -> None:
    plain = read_table(_write(tmp_path, "a.csv", CSV), UCI, tmp_path)
    gz = read_table(_write(tmp_path, "a.csv.gz", gzip.compress(CSV)), UCI, tmp_path)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("folder/data.csv", CSV)
        zf.writestr("folder/README.md", "hi")
    zipped = read_table(tmp_path / "a.zip", UCI, tmp_path)
    plain.frame.write_parquet(tmp_path / "a.parquet")
    parquet = read_table(tmp_path / "a.parquet", UCI, tmp_path)
    assert (plain.format, gz.format, zipped.format, parquet.format) == (
        "csv",
        "csv.gz",
        "zip/csv",
        "parquet",
    )
    assert zipped.member == "folder/data.csv"
    for other in (gz, zipped, parquet):
        assert other.frame.equals(plain.frame)


def test_zip_member_by_name(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        zf.writestr("x/a.csv", CSV)
        zf.writestr("x/b.csv", b"q\n1\n")
    frame = read_table(tmp_path / "two.zip", ReadOptions(member="b.csv"), tmp_path).frame
    assert frame.columns == ["q"]


def test_late_value_widens_inferred_type(tmp_path: Path) -> None:
    rows = "\n".join(["v"] + [str(i) for i in range(12_000)] + ["x1"]) + "\n"
    frame = read_table(_write(tmp_path, "late.csv", rows.encode()), ReadOptions(), tmp_path).frame
    assert frame.schema["v"] == pl.String
    assert frame.height == 12_001


def _zip(tmp_path: Path, members: dict[str, bytes]) -> bytes:
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path.read_bytes()


BAD = {
    "empty": (b"", "is empty"),
    "header_only": (b"a,b\n", "header but no data rows"),
    "binary": (bytes(range(256)) * 8, "binary"),
    "ragged": (b"a,b\n1,2\n3,4,5\n", "ragged rows"),
    "latin1": ("a,b\nré,2\n".encode("latin-1"), "not UTF-8"),
    "duplicate_columns": (b"a,b,a\n1,2,3\n", "duplicate column names: a"),
    "single_long_line": (b"x," * 1_000_000, "no line break"),
    "truncated_gzip": (gzip.compress(CSV * 100)[:60], "cannot be decompressed"),
    "bad_override": (b"a\n1\nx\n", "could not parse"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_get_clear_errors(tmp_path: Path, case: str) -> None:
    data, needle = BAD[case]
    opts = ReadOptions(dtypes={"a": "int"}) if case == "bad_override" else ReadOptions()
    with pytest.raises(InvalidInputError) as info:
        read_table(_write(tmp_path, f"{case}.csv", data), opts, tmp_path)
    assert needle in info.value.message
    assert info.value.hint


def test_zip_with_several_or_no_csvs(tmp_path: Path) -> None:
    several = _write(tmp_path, "s.zip", _zip(tmp_path, {"a.csv": CSV, "b.csv": CSV}))
    with pytest.raises(InvalidInputError, match="holds 2 CSV files"):
        read_table(several, ReadOptions(), tmp_path)
    none = _write(tmp_path, "n.zip", _zip(tmp_path, {"notes.md": b"hello"}))
    with pytest.raises(InvalidInputError, match="holds no CSV"):
        read_table(none, ReadOptions(), tmp_path)
    with pytest.raises(InvalidInputError, match=r"no member 'c\.csv'"):
        read_table(several, ReadOptions(member="c.csv"), tmp_path)


def test_missing_path_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        detect_format(tmp_path / "nope.csv")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        detect_format(tmp_path)


def test_unknown_type_and_unknown_override_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.csv", CSV)
    with pytest.raises(InvalidInputError, match="unknown column type"):
        read_table(path, ReadOptions(dtypes={"id": "integer"}), tmp_path)
    with pytest.raises(InvalidInputError, match="does not have: nope"):
        read_table(path, ReadOptions(dtypes={"nope": "str"}), tmp_path)
