"""The column-statistics core: kinds, missing values, compression, merges, round trips."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import polars as pl
import pytest

from modelyard.errors import InvalidInputError
from modelyard.quality.columns import (
    ColumnSummary,
    FrameSummary,
    SummaryOptions,
    merge_summaries,
    summarize,
)


def test_kinds_by_type_and_override() -> None:
    frame = pl.DataFrame(
        {
            "n": [1, 2, 3],
            "f": [1.5, None, 2.5],
            "s": ["a", "b", None],
            "b": [True, False, None],
            "d": [date(2026, 1, 1), date(2026, 1, 3), None],
            "l": [[1], [2], [3]],
        }
    )
    s = summarize(frame, kinds={"n": "categorical"})
    assert {k: c.kind for k, c in s.columns.items()} == {
        "n": "categorical",
        "f": "numeric",
        "s": "categorical",
        "b": "boolean",
        "d": "datetime",
        "l": "other",
    }
    assert s.columns["n"].categories is not None
    assert s.columns["n"].categories.counts == {"1": 1, "2": 1, "3": 1}
    assert s.columns["b"].categories is not None
    assert s.columns["b"].categories.counts == {"false": 1, "true": 1}
    d = s.columns["d"].to_dict()
    assert d["numeric"]["min_iso"].startswith("2026-01-01")
    assert s.columns["d"].numeric is not None
    assert s.columns["d"].numeric.max - s.columns["d"].numeric.min == 2 * 86400  # type: ignore[operator]
    assert (s.columns["l"].rows, s.columns["l"].missing, s.columns["l"].distinct) == (3, 0, 3)


def test_nan_and_infinity_are_missing() -> None:
    s = summarize(pl.DataFrame({"x": [1.0, float("nan"), float("inf"), None, 3.0]}))
    col = s.columns["x"]
    assert (col.rows, col.missing, col.count, col.distinct) == (5, 3, 2, 2)
    assert col.numeric is not None
    assert col.numeric.mean == 2.0
    json.dumps(s.to_dict(), allow_nan=False)


def test_empty_and_all_missing_columns_give_none_not_nan() -> None:
    s = summarize(pl.DataFrame({"x": [None, None]}, schema={"x": pl.Float64}))
    col = s.columns["x"]
    assert col.numeric is not None
    assert (col.numeric.mean, col.numeric.std, col.numeric.min, col.numeric.quantile(0.5)) == (
        None,
        None,
        None,
        None,
    )
    empty = summarize(pl.DataFrame({"x": []}, schema={"x": pl.Int64}))
    assert empty.rows == 0
    assert empty.columns["x"].missing_rate == 0.0
    json.dumps(empty.to_dict(), allow_nan=False)


def test_text_columns_keep_the_top_values_and_the_rest() -> None:
    opts = SummaryOptions(max_categories=5, text_top_k=3)
    values = [f"id{i}" for i in range(20)] + ["id0"] * 5
    s = summarize(pl.DataFrame({"t": values}), options=opts)
    col = s.columns["t"]
    assert col.kind == "text"
    assert col.distinct == 20
    assert col.categories is not None
    assert next(iter(col.categories.counts)) == "id0"
    assert col.categories.counts["id0"] == 6
    assert len(col.categories.counts) == 3
    assert col.categories.other == 25 - 6 - 2
    top, rest = col.categories.top(1)
    assert top == [("id0", 6)]
    assert rest == 19


def test_categorical_partitions_that_grow_past_the_limit_merge_to_text() -> None:
    opts = SummaryOptions(max_categories=4, text_top_k=2)
    a = summarize(pl.DataFrame({"t": ["a", "b", "c"]}), options=opts)
    b = summarize(pl.DataFrame({"t": ["d", "e", "a"]}), options=opts)
    merged = a.merge(b).columns["t"]
    assert merged.kind == "text"
    assert merged.categories is not None
    assert merged.categories.counts == {"a": 2, "b": 1}
    assert merged.categories.total == 6


def test_compressed_distribution_merges_with_bounded_quantile_error() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, 40_000)
    opts = SummaryOptions(max_exact_values=1_000, sketch_points=500)
    whole = summarize(pl.DataFrame({"x": values}), options=opts).columns["x"]
    parts = [
        summarize(pl.DataFrame({"x": chunk}), options=opts) for chunk in np.array_split(values, 4)
    ]
    merged = merge_summaries(parts).columns["x"]
    for col in (whole, merged):
        assert col.numeric is not None
        assert not col.numeric.distribution.exact
        assert col.numeric.mean == pytest.approx(values.mean(), abs=1e-9)
        assert col.numeric.std == pytest.approx(values.std(ddof=1), rel=1e-9)
        assert col.numeric.min == values.min()
        assert col.numeric.max == values.max()
        sorted_values = np.sort(values)
        for q in (0.01, 0.25, 0.5, 0.75, 0.99):
            estimate = col.numeric.quantile(q)
            rank = np.searchsorted(sorted_values, estimate) / values.size
            assert abs(rank - q) <= 2 * 4 / 500  # a few buckets of rank error per merge level
    assert merged.distinct_exact is False
    assert merged.distinct <= values.size


def test_merge_refuses_different_columns_kinds_and_options() -> None:
    a = summarize(pl.DataFrame({"x": [1, 2]}))
    with pytest.raises(InvalidInputError, match="different columns"):
        a.merge(summarize(pl.DataFrame({"y": [1, 2]})))
    with pytest.raises(InvalidInputError, match="numeric in one partition"):
        a.merge(summarize(pl.DataFrame({"x": ["a", "b"]})))
    with pytest.raises(InvalidInputError, match="options"):
        a.merge(summarize(pl.DataFrame({"x": [1]}), options=SummaryOptions(sketch_points=10)))
    with pytest.raises(InvalidInputError):
        merge_summaries([])


def test_bad_arguments_are_clear_errors() -> None:
    frame = pl.DataFrame({"x": ["a"], "l": [[1]]})
    with pytest.raises(InvalidInputError, match="unknown column"):
        summarize(frame, columns=["nope"])
    with pytest.raises(InvalidInputError, match="unknown kind"):
        summarize(frame, kinds={"x": "fancy"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError, match="cannot be summarised as numeric"):
        summarize(frame, kinds={"x": "numeric"})
    with pytest.raises(InvalidInputError, match="no categories"):
        summarize(frame, kinds={"l": "categorical"})
    with pytest.raises(InvalidInputError):
        FrameSummary.from_dict({"rows": 1})
    with pytest.raises(InvalidInputError):
        ColumnSummary.from_dict({"name": "x"})


def test_lazyframe_and_round_trip() -> None:
    frame = pl.DataFrame({"x": [3, 1, 2, 2], "c": ["u", "v", "u", None]})
    s = summarize(frame.lazy())
    back = FrameSummary.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.to_dict() == s.to_dict()
    view = s.to_dict(include_state=False)
    assert "state" not in view["columns"][0]["numeric"]
    assert view["columns"][0]["numeric"]["quantiles"]["0.5"] == 2.0
    edges, counts = s.columns["x"].numeric.histogram(2)  # type: ignore[union-attr]
    assert edges == [1.0, 2.0, 3.0]
    assert counts == [1.0, 3.0]
