"""Property 50: every adherence probability is in [0, 1]."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence import TrainedModel, predict
from modelyard.adherence.schema import DOSE_VALUES, MEDICATION_COLUMNS

COUNTS = (
    "time_in_hospital",
    "num_lab_procedures",
    "num_procedures",
    "num_medications",
    "number_outpatient",
    "number_emergency",
    "number_inpatient",
    "number_diagnoses",
)
TEXT = ("race", "gender", "age", "payer_code", "medical_specialty", "diag_1", "A1Cresult")


@st.composite
def batches(draw: st.DrawFn, sample: pl.DataFrame) -> pl.DataFrame:
    idx = draw(st.lists(st.integers(0, sample.height - 1), min_size=1, max_size=20, unique=True))
    frame = sample[idx]
    n = frame.height
    changes: list[pl.Series] = []
    for column in draw(st.lists(st.sampled_from(COUNTS), max_size=4, unique=True)):
        values = draw(
            st.lists(st.one_of(st.none(), st.integers(0, 10_000)), min_size=n, max_size=n)
        )
        changes.append(pl.Series(column, values, dtype=pl.Int64))
    for column in draw(st.lists(st.sampled_from(TEXT), max_size=3, unique=True)):
        values = draw(
            st.lists(
                st.sampled_from(["?", "None", "Martian", "250.01", "V57"]), min_size=n, max_size=n
            )
        )
        changes.append(pl.Series(column, values))
    for column in draw(st.lists(st.sampled_from(MEDICATION_COLUMNS), max_size=5, unique=True)):
        values = draw(st.lists(st.sampled_from([*DOSE_VALUES, "?"]), min_size=n, max_size=n))
        changes.append(pl.Series(column, values))
    return frame.with_columns(changes) if changes else frame


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), kind=st.sampled_from(["lightgbm", "logistic"]))
def test_p50_adherence_prediction_probability_range(
    sample: pl.DataFrame, models: dict[str, TrainedModel], data: st.DataObject, kind: str
) -> None:
    batch = data.draw(batches(sample))
    for level in ("brand", "encounter"):
        p = predict(models[kind], batch, level=level)["probability"].to_numpy()  # type: ignore[arg-type]
        assert np.all(np.isfinite(p))
        assert np.all((p >= 0.0) & (p <= 1.0))
