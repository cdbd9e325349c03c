"""Property 52: a patient on k brands gets exactly k brand predictions (none: one empty row)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence import AdherenceConfig, TrainedModel, predict, train
from modelyard.adherence.schema import MEDICATION_COLUMNS


@pytest.fixture(scope="module")
def model(sample: pl.DataFrame) -> TrainedModel:
    return train(sample, AdherenceConfig())


regimens = st.dictionaries(
    st.sampled_from(MEDICATION_COLUMNS), st.sampled_from(["Steady", "Up", "Down"]), max_size=8
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plans=st.lists(regimens, min_size=1, max_size=6), start=st.integers(0, 2500))
def test_p52_multi_brand_prediction_generation(
    sample: pl.DataFrame, model: TrainedModel, plans: list[dict[str, str]], start: int
) -> None:
    base = sample.slice(start, len(plans)).with_columns(
        *(pl.lit("No").alias(m) for m in MEDICATION_COLUMNS)
    )
    rows = []
    for i, plan in enumerate(plans):
        row = base.slice(i, 1)
        if plan:
            row = row.with_columns(*(pl.lit(v).alias(m) for m, v in plan.items()))
        rows.append(row)
    batch = pl.concat(rows)
    out = predict(model, batch)
    for i, plan in enumerate(plans):
        enc_id = batch["encounter_id"][i]
        got = out.filter(pl.col("encounter_id") == enc_id)["brand"].to_list()
        expected = [m for m in MEDICATION_COLUMNS if m in plan] or [""]
        assert got == expected
    enc = predict(model, batch, level="encounter")
    assert enc["n_brands"].to_list() == [len(p) for p in plans]
