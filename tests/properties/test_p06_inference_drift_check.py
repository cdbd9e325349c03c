"""Property 6 (pipeline side): every inference batch is checked against its model's baseline
and gets a drift report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.pipelines.config import DataSource, InferenceConfig
from tests.properties.pipeline_support import Trained, train_once


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    t = train_once(tmp_path_factory.mktemp("p06"))
    yield t
    t.ws.close()


@given(
    start=st.integers(0, 2500),
    size=st.integers(1, 500),
    batch=st.from_regex(r"b[a-z0-9]{1,8}", fullmatch=True),
)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_p06_drift_detection_execution_in_inference(
    trained: Trained, tmp_path: Path, start: int, size: int, batch: str
) -> None:
    path = tmp_path / "batch.csv"
    trained.frame.slice(start, size).write_csv(path)
    before = len(trained.ws.monitor.list_reports(model="adherence", limit=None))
    result = trained.ws.pipelines.run_inference(
        InferenceConfig(model="adherence@latest", data=DataSource(path=str(path)), batch_id=batch)
    )
    report = trained.ws.monitor.get_report(result.drift_report_id)
    assert report.model == "adherence"
    assert str(report.model_version) == str(trained.result.version)
    assert report.batch_id == batch
    assert report.baseline_id == trained.result.baseline_id
    assert report.current_rows == size
    assert len(trained.ws.monitor.list_reports(model="adherence", limit=None)) == before + 1
