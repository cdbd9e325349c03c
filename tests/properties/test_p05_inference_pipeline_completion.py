"""Property 5: every valid batch gets exactly one prediction per input row, with the model
version (per encounter at encounter level; per (encounter, brand) at brand level)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence.schema import MEDICATION_COLUMNS
from modelyard.pipelines.config import DataSource, InferenceConfig
from tests.properties.pipeline_support import Trained, train_once


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    t = train_once(tmp_path_factory.mktemp("p05"))
    yield t
    t.ws.close()


@given(
    start=st.integers(0, 2900),
    size=st.integers(1, 300),
    level=st.sampled_from(["brand", "encounter"]),
)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_p05_inference_pipeline_completion(
    trained: Trained, tmp_path: Path, start: int, size: int, level: str
) -> None:
    batch = trained.frame.slice(start, size)
    path = tmp_path / f"batch-{start}-{size}.csv"
    batch.write_csv(path)
    result = trained.ws.pipelines.run_inference(
        InferenceConfig(
            model=f"adherence@{trained.result.version}",
            data=DataSource(path=str(path)),
            level=level,  # type: ignore[arg-type]
        )
    )
    _, out = trained.ws.pipelines.get_predictions(result.id)
    assert result.rows_in == batch.height
    assert set(out.get_column("model_version").unique()) == {f"adherence@{trained.result.version}"}
    if level == "encounter":
        assert out.height == batch.height
        assert sorted(out.get_column("encounter_id")) == sorted(
            batch.get_column("encounter_id").cast(pl.Int64)
        )
    else:
        taken = batch.select(
            pl.sum_horizontal(pl.col(m) != "No" for m in MEDICATION_COLUMNS).alias("k")
        ).get_column("k")
        assert out.height == int(taken.clip(lower_bound=1).sum())
