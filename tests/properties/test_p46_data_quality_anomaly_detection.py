"""Property 46: injected anomalies are found; clean data raises none."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.datasets import DatasetSchema
from modelyard.settings import Settings
from modelyard.workspace import open_workspace

KINDS = ("missing", "duplicate_rows", "outliers", "unseen_categories", "schema:unique_key")


def _clean(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "id": np.arange(rows),
            "x": rng.uniform(10, 20, size=rows).round(4),
            "c": rng.choice(["No", "Up", "Down"], size=rows),
        }
    )


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(40, 300), seed=st.integers(0, 10**6), inject=st.sets(st.sampled_from(KINDS))
)
def test_p46_data_quality_anomaly_detection(rows: int, seed: int, inject: set[str]) -> None:
    reference = _clean(rows, seed)
    current = _clean(rows, seed + 1).with_columns(pl.col("id") + rows)
    if "missing" in inject:
        current = current.with_columns(
            pl.when(pl.col("id") % 2 == 0).then(None).otherwise(pl.col("x")).alias("x")
        )
    if "outliers" in inject:
        current = current.with_columns(
            pl.when(pl.col("id") == rows + 3).then(1e6).otherwise(pl.col("x")).alias("x")
        )
    if "unseen_categories" in inject:
        current = current.with_columns(
            pl.when(pl.col("id") == rows + 1)
            .then(pl.lit("Sideways"))
            .otherwise(pl.col("c"))
            .alias("c")
        )
    if "schema:unique_key" in inject:
        current = current.with_columns(
            pl.when(pl.col("id") == rows + 5).then(rows + 6).otherwise(pl.col("id")).alias("id")
        )
    if "duplicate_rows" in inject:
        current = pl.concat([current, current.head(2)])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        reference.write_parquet(folder / "r.parquet")
        current.write_parquet(folder / "c.parquet")
        ws.datasets.add(folder / "r.parquet", name="d")
        ws.datasets.approve("d", 1, "reference")
        ws.datasets.add(folder / "c.parquet", name="d")
        # declared after the upload (which would have refused duplicate keys): the anomaly
        # report lists schema violations of stored versions
        ws.datasets.set_schema("d", DatasetSchema.from_dict({"columns": {}, "keys": ["id"]}))
        found = ws.datasets.anomalies("d", 2)
    kinds = {a.kind for a in found}
    if "duplicate_rows" in inject:
        # duplicated rows also duplicate their key
        inject = inject | {"schema:unique_key"}
    assert kinds == inject
    for anomaly in found:
        assert anomaly.count >= 1
        assert anomaly.kind
        if anomaly.kind != "duplicate_rows":
            assert anomaly.column
    by_kind = {a.kind: a for a in found}
    if "unseen_categories" in inject:
        assert by_kind["unseen_categories"].examples == ("Sideways",)
    if "outliers" in inject:
        assert 1e6 in by_kind["outliers"].examples
