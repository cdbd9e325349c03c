"""Property 53: every adherence prediction has all fields of the use case."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence import TrainedModel, predict
from modelyard.adherence.schema import MEDICATION_COLUMNS

FIELDS = (
    "encounter_id",
    "patient_nbr",
    "brand",
    "probability",
    "label",
    "confidence",
    "risk_factors",
    "model_version",
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    idx=st.lists(st.integers(0, 2999), min_size=1, max_size=40, unique=True),
    version=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True),
    kind=st.sampled_from(["lightgbm", "logistic"]),
)
def test_p53_adherence_prediction_output_completeness(
    sample: pl.DataFrame, models: dict[str, TrainedModel], idx: list[int], version: str, kind: str
) -> None:
    model = models[kind]
    out = predict(model, sample[idx], model_version=version)
    for field in FIELDS:
        assert field in out.columns
        assert out[field].null_count() == 0, field
    assert set(out["brand"].unique()) <= {"", *MEDICATION_COLUMNS}
    assert (out["model_version"] == version).all()
    for row in out.iter_rows(named=True):
        assert 0.0 <= row["probability"] <= 1.0
        assert 0.0 <= row["confidence"] <= 1.0
        assert row["label"] == (row["probability"] >= model.threshold)
        assert len(row["risk_factors"]) == 5
        for factor in row["risk_factors"]:
            assert factor["feature"] in model.feature_names
            assert math.isfinite(factor["contribution"])
