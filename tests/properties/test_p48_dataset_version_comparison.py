"""Property 48: comparison reports schema, row-count and statistic differences, and drift."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows_a=st.integers(50, 400),
    rows_b=st.integers(50, 400),
    shift=st.sampled_from([0.0, 5.0]),
    add_column=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_p48_dataset_version_comparison(
    rows_a: int, rows_b: int, shift: float, add_column: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    a = pl.DataFrame(
        {"x": rng.normal(size=rows_a), "c": rng.choice(["p", "q"], size=rows_a), "gone": 1}
    )
    b = pl.DataFrame(
        {"x": rng.normal(size=rows_b) + shift, "c": rng.choice(["p", "q"], size=rows_b)}
    )
    if add_column:
        b = b.with_columns(pl.lit("new").alias("extra"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        a.write_parquet(folder / "a.parquet")
        b.write_parquet(folder / "b.parquet")
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        ws.datasets.add(folder / "a.parquet", name="d")
        ws.datasets.add(folder / "b.parquet", name="d")
        result = ws.datasets.compare("d", 1, "d", 2)
    assert result["schema"]["removed"] == ["gone"]
    assert result["schema"]["added"] == (["extra"] if add_column else [])
    assert result["rows"] == {
        "a": rows_a,
        "b": rows_b,
        "change": rows_b - rows_a,
        "change_rate": (rows_b - rows_a) / rows_a,
    }
    cols = {c["column"]: c for c in result["columns"]}
    assert set(cols) == {"x", "c"}
    mean = cols["x"]["numeric"]["mean"]
    assert np.isclose(mean["a"], a["x"].mean())
    assert np.isclose(mean["b"], b["x"].mean())
    assert np.isclose(mean["change"], b["x"].mean() - a["x"].mean())
    for col in cols.values():
        assert col["drift"]["method"] in ("ks", "chi_square", "wasserstein", "jensen_shannon")
        assert col["drift"]["score"] is not None
    if shift > 0:
        # a shift of 5 standard deviations is found whatever the sample
        assert cols["x"]["drift"]["drifted"] is True
    else:
        # without a shift the verdict is a 5%-level test's: false positives happen by design,
        # so only the evidence is checked here, not the verdict
        assert cols["x"]["drift"]["p_value"] is not None or cols["x"]["drift"]["score"] >= 0
    assert result["drift"]["tested_features"] == 2
