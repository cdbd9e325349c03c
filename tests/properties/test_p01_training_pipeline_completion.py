"""Property 1: any valid dataset yields model, metrics, baseline and registered version;
invalid input fails with a typed error and leaves nothing half-written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence import TrainedModel
from modelyard.errors import InvalidInputError, ModelNotFoundError, PipelineError
from tests.properties.pipeline_support import new_workspace, training_config, write_sample


@given(model_type=st.sampled_from(["lightgbm", "logistic"]), seed=st.integers(0, 1000))
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_p01_training_pipeline_completion(model_type: str, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = write_sample(folder)
        ws = new_workspace(folder)
        config = training_config(csv, model={"type": model_type}, split={"seed": seed})
        result = ws.pipelines.run_training(config)
        mv = ws.registry.get_version("adherence", result.version)
        assert mv.framework == ("lightgbm" if model_type == "lightgbm" else "scikit-learn")
        assert 0.0 <= mv.metrics["test_auc_roc"] <= 1.0
        assert {"manifest.json", "baseline.json"} <= {a.name for a in mv.artifacts}
        model = TrainedModel.from_artifacts(
            {
                k: v
                for k, v in ws.registry.load_artifacts("adherence", mv.version).items()
                if k != "baseline.json"
            }
        )
        assert model.kind == model_type
        info, baseline = ws.monitor.get_baseline("adherence", mv.version)
        assert info.id == result.baseline_id
        assert baseline.rows > 0
        assert "encounter_id" not in baseline.summary.columns
        assert ws.pipelines.get_run(result.run_id).status == "succeeded"
        ws.close()


@given(
    breakage=st.sampled_from(["drop_column", "label_missing", "empty"]),
    column=st.sampled_from(["patient_nbr", "insulin", "age", "diag_1", "num_medications"]),
)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_p01_invalid_input_fails_typed_and_writes_nothing(breakage: str, column: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = write_sample(folder, 400)
        frame = pl.read_csv(csv, infer_schema=False)
        extra: dict[str, object] = {}
        if breakage == "drop_column":
            frame = frame.drop(column)
        elif breakage == "label_missing":
            extra = {"label": {"column": "pdc", "rule": "lt", "value": 0.8}}
        else:
            frame = frame.head(0)
        frame.write_csv(csv)
        ws = new_workspace(folder)
        with pytest.raises((PipelineError, InvalidInputError)) as info:
            ws.pipelines.run_training(training_config(csv, **extra))
        if isinstance(info.value, PipelineError):
            assert info.value.step in ("load_validate", "preprocess")
        with pytest.raises(ModelNotFoundError):
            ws.registry.list_versions("adherence")
        assert ws.monitor.list_baselines("adherence") == []
        runs = ws.pipelines.list_runs()
        assert all(r.status == "failed" for r in runs)
        ws.close()
