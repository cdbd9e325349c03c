"""Property 8: inference results are stored with metadata and read back equal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from modelyard.pipelines.config import DataSource, InferenceConfig
from tests.properties.pipeline_support import Trained, train_once


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    t = train_once(tmp_path_factory.mktemp("p08"))
    yield t
    t.ws.close()


@given(
    start=st.integers(0, 2800),
    size=st.integers(1, 200),
    level=st.sampled_from(["brand", "encounter"]),
)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_p08_inference_results_storage(
    trained: Trained, tmp_path: Path, start: int, size: int, level: str
) -> None:
    path = tmp_path / "batch.csv"
    out = tmp_path / "out.parquet"
    trained.frame.slice(start, size).write_csv(path)
    result = trained.ws.pipelines.run_inference(
        InferenceConfig(
            model="adherence@latest",
            data=DataSource(path=str(path)),
            level=level,  # type: ignore[arg-type]
            output=str(out),
        )
    )
    meta, stored = trained.ws.pipelines.get_predictions(result.id)
    assert meta == result
    assert_frame_equal(stored, pl.read_parquet(out))
    listed = trained.ws.pipelines.list_predictions("adherence", limit=None)
    assert result in listed
    assert meta.rows_out == stored.height
    assert meta.output_schema == {k: str(v) for k, v in stored.schema.items()}
    assert meta.model_version == trained.result.version
    assert meta.input == f"file:{path}"
