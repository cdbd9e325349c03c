"""Ingestion schema checks: types, missing keys, duplicates; offending rows are named."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import polars as pl
import pytest

from modelyard.errors import InvalidInputError, SchemaViolationError
from modelyard.features import FeatureGroupSpec
from modelyard.features.schema import conform

SPEC = FeatureGroupSpec.model_validate(
    {
        "name": "g",
        "entity_key": "id",
        "event_time": "ts",
        "features": [
            {"name": "x", "dtype": "float64"},
            {"name": "n", "dtype": "int64", "nullable": False},
            {"name": "s", "dtype": "string"},
            {"name": "b", "dtype": "bool"},
            {"name": "d", "dtype": "datetime"},
            {"name": "twice", "dtype": "float64", "expr": "x * 2"},
        ],
    }
)


def strings(**cols: list[str | None]) -> pl.DataFrame:
    base: dict[str, list[str | None]] = {
        "id": ["1", "2"],
        "ts": ["2020-01-01", "2020-01-02T03:04:05+02:00"],
        "x": ["1.5", "nan"],
        "n": ["1", "2"],
        "s": ["a", "b"],
        "b": ["true", "0"],
        "d": ["2021-01-01", None],
    }
    base.update(cols)
    return pl.DataFrame(base, schema=dict.fromkeys(base, pl.String))


def violation(exc: pytest.ExceptionInfo[SchemaViolationError], column: str) -> dict[str, object]:
    return next(v for v in exc.value.violations if v["column"] == column)


def test_strings_are_parsed_to_declared_types() -> None:
    out = conform(strings(), SPEC)
    assert out.columns == ["id", "ts", "x", "n", "s", "b", "d", "twice"]
    assert out["id"].to_list() == [1, 2]
    assert out["ts"].to_list() == [
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC),
    ]
    assert out["x"].to_list() == [1.5, None]  # NaN is read as missing
    assert out["twice"].to_list() == [3.0, None]
    assert out["b"].to_list() == [True, False]
    assert out["d"].to_list() == [datetime(2021, 1, 1, tzinfo=UTC), None]


def test_bad_values_name_their_rows_and_columns() -> None:
    frame = strings(id=["1", "x"], n=["1", "1.5"], ts=["2020-01-01", "yesterday"])
    with pytest.raises(SchemaViolationError) as caught:
        conform(frame, SPEC, source="f.csv")
    assert violation(caught, "id")["rows"] == [2]
    assert violation(caught, "n")["rows"] == [2]
    assert violation(caught, "ts")["examples"] == [{"row": 2, "value": "yesterday"}]
    assert "f.csv" in caught.value.message
    assert "nothing was ingested" in caught.value.message


def test_missing_key_event_time_and_required_feature() -> None:
    frame = strings(id=[None, "2"], ts=["2020-01-01", None], n=["1", None])
    with pytest.raises(SchemaViolationError) as caught:
        conform(frame, SPEC)
    rules = {(v["column"], v["rule"]): v["rows"] for v in caught.value.violations}
    assert rules[("id", "entity key is missing")] == [1]
    assert rules[("ts", "event time is missing")] == [2]
    assert rules[("n", "feature is missing")] == [2]


def test_duplicate_key_and_event_time_in_one_batch_is_refused() -> None:
    frame = strings(id=["1", "1"], ts=["2020-01-01", "2020-01-01"])
    with pytest.raises(SchemaViolationError, match="duplicate") as caught:
        conform(frame, SPEC)
    assert violation(caught, "id,ts")["rows"] == [1, 2]


def test_wrong_column_type_is_refused_whole() -> None:
    frame = strings().with_columns(pl.Series("s", [1, 2]))
    with pytest.raises(SchemaViolationError, match=r"'s'.*expected string"):
        conform(frame, SPEC)


def test_infinity_and_non_integral_floats_are_refused() -> None:
    frame = strings().with_columns(pl.Series("x", [float("inf"), 1.0]), pl.Series("n", [1.0, 2.5]))
    with pytest.raises(SchemaViolationError) as caught:
        conform(frame, SPEC)
    assert violation(caught, "x")["rows"] == [1]
    assert violation(caught, "n")["rows"] == [2]


def test_missing_columns_are_listed() -> None:
    with pytest.raises(InvalidInputError, match=r"no column\(s\) \['n', 's'\]"):
        conform(strings().drop("n", "s"), SPEC)


def test_pandas_naive_datetimes_are_utc() -> None:
    frame = pd.DataFrame(
        {
            "id": [1],
            "ts": [pd.Timestamp("2020-01-01 12:00")],
            "x": [0.5],
            "n": [3],
            "s": ["q"],
            "b": [True],
            "d": [pd.Timestamp("2020-01-01", tz="Europe/Paris")],
        }
    )
    out = conform(pl.from_pandas(frame), SPEC)
    assert out["ts"][0] == datetime(2020, 1, 1, 12, tzinfo=UTC)
    assert out["d"][0] == datetime(2019, 12, 31, 23, tzinfo=UTC)


def test_control_characters_in_string_keys_are_refused() -> None:
    spec = SPEC.model_copy(update={"key_types": ("string",)})
    spec = FeatureGroupSpec.model_validate({**SPEC.model_dump(), "key_types": ["string"]})
    with pytest.raises(SchemaViolationError, match="control character"):
        conform(strings(id=["a\x1fb", "c"]), spec)
