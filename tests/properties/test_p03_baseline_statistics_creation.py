"""Property 3: a baseline has, for every column, type, counts, missing rate and distribution
statistics equal to an independent computation; baselines of partitions merge into the
baseline of the whole."""

from __future__ import annotations

import itertools
import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.quality.model import Baseline
from modelyard.quality.monitoring import build_baseline
from tests.properties.quality_support import frames, reference_stats

KINDS = {"i": "numeric", "x": "numeric", "c": "categorical", "b": "boolean"}


def _assert_matches(baseline: Baseline, frame: pl.DataFrame) -> None:
    assert baseline.rows == frame.height
    for name in frame.columns:
        col = baseline.summary.columns[name]
        ref = reference_stats(frame[name].to_list())
        assert col.kind == KINDS[name]
        assert col.rows == ref["rows"]
        assert col.missing == ref["missing"]
        assert col.missing_rate == pytest.approx(ref["missing"] / ref["rows"] if ref["rows"] else 0)
        assert col.distinct == ref["distinct"]
        if col.numeric is not None:
            stats = col.numeric
            if "mean" not in ref:
                assert stats.count == 0
                assert stats.mean is None
                continue
            assert stats.mean == pytest.approx(ref["mean"], rel=1e-9, abs=1e-9)
            assert stats.min == ref["min"]
            assert stats.max == ref["max"]
            if ref["std"] is None:
                assert stats.std is None
            else:
                assert stats.std == pytest.approx(ref["std"], rel=1e-7, abs=1e-7)
            for q, expected in ref["quantiles"].items():
                assert stats.quantile(q) == pytest.approx(expected, rel=1e-9, abs=1e-9)
        else:
            assert col.categories is not None
            assert col.categories.counts == ref["counts"]


@settings(max_examples=60, deadline=None)
@given(frames(min_rows=1))
def test_p03_baseline_statistics_creation(frame: pl.DataFrame) -> None:
    baseline = build_baseline(frame)
    _assert_matches(baseline, frame)
    # stored form round-trips exactly (JSON, no NaN)
    text = json.dumps(baseline.to_dict(), allow_nan=False)
    _assert_matches(Baseline.from_dict(json.loads(text)), frame)


@settings(max_examples=40, deadline=None)
@given(frames(min_rows=1), st.data())
def test_p03_baselines_of_partitions_merge_into_the_whole(
    frame: pl.DataFrame, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, frame.height), max_size=3)))
    bounds = [0, *cuts, frame.height]
    parts = [frame.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    parts = [p for p in parts if p.height] or [frame]
    merged = Baseline.merge_all(build_baseline(p) for p in parts)
    _assert_matches(merged, frame)
    whole = build_baseline(frame)
    merged_edges, whole_edges = merged.psi_edges(), whole.psi_edges()
    assert merged_edges.keys() == whole_edges.keys()
    for name, edges in whole_edges.items():
        assert merged_edges[name] == pytest.approx(edges)
