"""Adherence prediction: output shape, fast path, risk factors, and bad batches."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from modelyard.adherence import (
    BRAND_OUTPUT_SCHEMA,
    ENCOUNTER_OUTPUT_SCHEMA,
    AdherenceConfig,
    TrainedModel,
    build_features,
    predict,
    predict_proba,
    train,
)
from modelyard.adherence.schema import MEDICATION_COLUMNS
from modelyard.errors import InvalidInputError


@pytest.fixture(scope="module")
def model(sample: pl.DataFrame) -> TrainedModel:
    return train(sample, AdherenceConfig())


@pytest.fixture(scope="module")
def batch(sample: pl.DataFrame) -> pl.DataFrame:
    return sample.slice(1000, 400)


def test_brand_and_encounter_outputs(model: TrainedModel, batch: pl.DataFrame) -> None:
    brand = predict(model, batch, model_version="3")
    enc = predict(model, batch, level="encounter", model_version="3")
    assert brand.schema == BRAND_OUTPUT_SCHEMA
    assert enc.schema == ENCOUNTER_OUTPUT_SCHEMA
    assert enc.height == batch.height
    assert enc["encounter_id"].to_list() == batch["encounter_id"].to_list()
    assert set(brand["model_version"].unique()) == {"3"}
    # the encounter's probability lies between its brands' (mean raw score, monotone calibration)
    span = brand.group_by("encounter_id").agg(
        pl.col("probability").min().alias("lo"), pl.col("probability").max().alias("hi")
    )
    joined = enc.join(span, on="encounter_id")
    assert (
        (joined["probability"] >= joined["lo"] - 1e-12)
        & (joined["probability"] <= joined["hi"] + 1e-12)
    ).all()


def test_fast_path_matches_full_path(model: TrainedModel, batch: pl.DataFrame) -> None:
    for level in ("brand", "encounter"):
        full = predict(model, batch, level=level)  # type: ignore[arg-type]
        fast = predict_proba(model, batch, level=level)  # type: ignore[arg-type]
        np.testing.assert_allclose(fast["probability"].to_numpy(), full["probability"].to_numpy())


def test_risk_factors_are_the_largest_signed_contributions(
    model: TrainedModel, batch: pl.DataFrame
) -> None:
    out = predict(model, batch.head(50))
    feats = build_features(batch.head(50), model.config, with_label=False)
    x, _ = model.preprocessor.transform(feats)
    contrib = model.contributions(x)
    raw = model.raw_score(x)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-6)
    names = model.feature_names
    for i, factors in enumerate(out["risk_factors"].to_list()):
        assert len(factors) == 5
        expected = sorted(range(len(names)), key=lambda j: -abs(contrib[i, j]))[:5]
        assert [f["feature"] for f in factors] == [names[j] for j in expected]
        assert [f["contribution"] for f in factors] == pytest.approx(
            [contrib[i, j] for j in expected]
        )


def test_confidence_is_the_margin_from_the_threshold(
    model: TrainedModel, batch: pl.DataFrame
) -> None:
    out = predict(model, batch)
    p, c, t = out["probability"].to_numpy(), out["confidence"].to_numpy(), model.threshold
    expected = np.where(p >= t, (p - t) / (1 - t), (t - p) / t)
    np.testing.assert_allclose(c, expected)
    assert ((c >= 0) & (c <= 1)).all()
    assert (out["label"].to_numpy() == (p >= t)).all()


def test_missing_column_is_refused(model: TrainedModel, batch: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="insulin") as info:
        predict(model, batch.drop("insulin"))
    assert info.value.hint


def test_extra_column_is_refused_or_ignored(model: TrainedModel, batch: pl.DataFrame) -> None:
    noisy = batch.with_columns(pl.lit(1).alias("surprise"))
    with pytest.raises(InvalidInputError, match="surprise"):
        predict(model, noisy)
    a = predict(model, noisy, extra_columns="ignore")
    b = predict(model, batch)
    assert a.equals(b)


def test_label_column_is_allowed_without_the_label(
    model: TrainedModel, batch: pl.DataFrame
) -> None:
    with_label = predict_proba(model, batch)
    without = predict_proba(model, batch.drop("readmitted"))
    assert with_label.height == without.height


def test_wrong_type_is_refused(model: TrainedModel, batch: pl.DataFrame) -> None:
    bad = batch.with_columns(pl.col("time_in_hospital").cast(pl.String))
    bad = bad.with_columns(
        pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.lit("three"))
        .otherwise("time_in_hospital")
        .alias("time_in_hospital")
    )
    with pytest.raises(InvalidInputError, match="time_in_hospital"):
        predict(model, bad)
    with pytest.raises(InvalidInputError, match="race"):
        predict(model, batch.with_columns(pl.lit(True).alias("race")))


def test_bad_medication_value_is_refused(model: TrainedModel, batch: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="metformin"):
        predict(model, batch.with_columns(pl.lit("Sideways").alias("metformin")))


def test_zero_rows_is_refused(model: TrainedModel, batch: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="no rows"):
        predict(model, batch.head(0))
    with pytest.raises(InvalidInputError, match="no rows"):
        predict_proba(model, batch.head(0))


def test_missing_and_duplicate_ids_are_refused(model: TrainedModel, batch: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="encounter_id"):
        predict(model, pl.concat([batch.head(2), batch.head(1)]))
    with pytest.raises(InvalidInputError, match="patient_nbr"):
        predict(model, batch.with_columns(pl.lit(None, dtype=pl.Int64).alias("patient_nbr")))


def test_unknown_level_is_refused(model: TrainedModel, batch: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="level"):
        predict(model, batch, level="patient")  # type: ignore[arg-type]


def test_unseen_categories_are_predicted_and_flagged(
    model: TrainedModel, batch: pl.DataFrame
) -> None:
    odd = batch.head(5).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("Martian")).otherwise("race").alias("race")
    )
    out = predict(model, odd, level="encounter")
    assert out.height == 5
    flags = out["flags"].to_list()
    assert flags[2] == ["unseen:race=Martian"]
    assert all(f == [] for i, f in enumerate(flags) if i != 2)
    assert 0.0 <= out["probability"][2] <= 1.0


def test_all_missing_row_is_predicted_and_flagged(model: TrainedModel, batch: pl.DataFrame) -> None:
    row = batch.head(1)
    blank = pl.DataFrame(
        {
            c: ([row[c][0]] if c in ("encounter_id", "patient_nbr") else [None])
            for c in row.columns
            if c != "readmitted"
        },
        schema={c: row.schema[c] for c in row.columns if c != "readmitted"},
    )
    out = predict(model, blank)
    assert out.height == 1
    assert out["brand"][0] == ""
    assert "all_features_missing" in out["flags"][0]
    assert 0.0 <= out["probability"][0] <= 1.0


def test_logistic_predictions_have_the_same_shape(
    sample: pl.DataFrame, batch: pl.DataFrame
) -> None:
    lr = train(sample, AdherenceConfig.from_dict({"model": {"type": "logistic"}}))
    out = predict(lr, batch, model_version="lr-1")
    assert out.schema == BRAND_OUTPUT_SCHEMA
    assert out["risk_factors"].list.len().min() == 5


def test_medication_values_missing_mark_is_not_a_brand(
    model: TrainedModel, batch: pl.DataFrame
) -> None:
    row = batch.head(1).with_columns(*(pl.lit("?").alias(m) for m in MEDICATION_COLUMNS))
    out = predict(model, row)
    assert out["brand"].to_list() == [""]


def test_path_contributions_sum_to_the_raw_score(model: TrainedModel, batch: pl.DataFrame) -> None:
    feats = build_features(batch.head(80), model.config, with_label=False)
    x, _ = model.preprocessor.transform(feats)
    path = model.contributions(x, method="path")
    shap = model.contributions(x, method="treeshap")
    np.testing.assert_allclose(path.sum(axis=1), model.raw_score(x), atol=1e-9)
    assert path.shape == shap.shape
    out = predict(model, batch.head(80), risk_factor_method="path")
    assert out["risk_factors"].list.len().min() == 5
