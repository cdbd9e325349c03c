"""Property 44: the summary has the row count, every column's type and its distribution, equal
to an independent numpy/scipy computation."""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace

numbers = st.lists(st.one_of(st.none(), st.integers(-(10**6), 10**6)), min_size=2, max_size=60)
words = st.lists(
    st.one_of(st.none(), st.sampled_from(["No", "Up", "Down", "Steady"])), min_size=2, max_size=60
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nums=numbers, cats=words, floats=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=60))
def test_p44_dataset_statistical_summary_completeness(
    nums: list[int | None], cats: list[str | None], floats: list[float]
) -> None:
    n = min(len(nums), len(cats), len(floats))
    frame = pl.DataFrame(
        {"num": nums[:n], "cat": cats[:n], "flt": floats[:n]},
        schema={"num": pl.Int64, "cat": pl.String, "flt": pl.Float64},
    )
    with tempfile.TemporaryDirectory() as tmp:
        frame.write_parquet(Path(tmp) / "f.parquet")
        ws = open_workspace(
            Settings.load(
                {}, home=Path(tmp) / "ws", records_uri="memory://", blobs_uri="memory://"
            ),
            env={},
            create=True,
        )
        ws.datasets.add(Path(tmp) / "f.parquet", name="s")
        summary = ws.datasets.summary("s")
    assert summary["rows"] == n
    cols = {c["name"]: c for c in summary["columns"]}
    assert list(cols) == ["num", "cat", "flt"]
    assert [cols[c]["type"] for c in cols] == ["int", "str", "float"]
    for name in ("num", "flt"):
        values = np.array([v for v in frame[name].to_list() if v is not None], dtype=float)
        col = cols[name]
        assert col["missing"] == n - values.size
        assert col["count"] == values.size
        assert col["distinct"] == np.unique(values).size
        stats = col["numeric"]
        if values.size == 0:
            continue
        assert stats["min"] == values.min()
        assert stats["max"] == values.max()
        assert math.isclose(stats["mean"], values.mean(), rel_tol=1e-9, abs_tol=1e-6)
        if values.size > 1:
            assert math.isclose(stats["std"], values.std(ddof=1), rel_tol=1e-6, abs_tol=1e-6)
        assert sum(stats["histogram"]["counts"]) == values.size
        assert math.isclose(
            stats["quantiles"]["0.5"], float(np.quantile(values, 0.5)), rel_tol=1e-9, abs_tol=1e-6
        )
    cat = cols["cat"]
    present = [c for c in frame["cat"].to_list() if c is not None]
    assert cat["missing"] == n - len(present)
    assert cat["distinct"] == len(set(present))
    expected = Counter(present)
    assert {t["value"]: t["count"] for t in cat["categories"]["top"]} == dict(expected)
    assert sum(t["count"] for t in cat["categories"]["top"]) + cat["categories"]["rest"] == len(
        present
    )
