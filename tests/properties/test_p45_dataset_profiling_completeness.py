"""Property 45: the profile has per-column statistics and a chart for every column, correlations
and the missing-value overview; the HTML holds no identifier values."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(60, 200),
    numeric=st.integers(0, 4),
    categorical=st.integers(0, 4),
    seed=st.integers(0, 10**6),
)
def test_p45_dataset_profiling_completeness(
    rows: int, numeric: int, categorical: int, seed: int
) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"patient_id": (rng.permutation(rows) + 7_654_321).tolist()}
    for i in range(numeric):
        values = rng.normal(size=rows).round(3).tolist()
        values[0] = None
        data[f"n{i}"] = values
    for i in range(categorical):
        data[f"c{i}"] = rng.choice(["a", "b", "c"], size=rows).tolist()
    frame = pl.DataFrame(data)
    with tempfile.TemporaryDirectory() as tmp:
        frame.write_parquet(Path(tmp) / "f.parquet")
        ws = open_workspace(
            Settings.load(
                {}, home=Path(tmp) / "ws", records_uri="memory://", blobs_uri="memory://"
            ),
            env={},
            create=True,
        )
        ws.datasets.add(Path(tmp) / "f.parquet", name="p")
        profile = ws.datasets.profile("p")
        page = ws.datasets.profile_html("p")
    assert [c["name"] for c in profile["columns"]] == frame.columns
    for col in profile["columns"]:
        assert {"type", "count", "missing", "distinct", "missing_rate"} <= set(col)
    corr = profile["correlations"]
    assert corr["numeric"]["columns"] == [f"n{i}" for i in range(numeric)]
    assert len(corr["numeric"]["matrix"]) == numeric
    assert corr["categorical"]["columns"] == [f"c{i}" for i in range(categorical)]
    missing = profile["missing"]
    assert missing["rows_with_missing"] == (1 if numeric else 0)
    assert [m["column"] for m in missing["per_column"]] == frame.columns
    # one card with one chart per column, self-contained, no identifier values
    cards = re.findall(r'<div class="col">(.*?)</div>', page)
    assert len(cards) == frame.width
    assert all("<svg" in card for card in cards)
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    for identifier in frame["patient_id"].to_list():
        assert str(identifier) not in page
