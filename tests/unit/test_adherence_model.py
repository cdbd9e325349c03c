"""Adherence model: training facts, threshold rule, calibration, artifacts without pickle."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from modelyard.adherence import TrainedModel, predict_proba, train
from modelyard.adherence.calibration import Calibrator, fit_calibrator
from modelyard.adherence.config import ThresholdConfig
from modelyard.adherence.metrics import choose_threshold, encounter_metrics
from modelyard.adherence.training import patient_split
from modelyard.errors import InvalidInputError


@pytest.mark.parametrize("kind", ["lightgbm", "logistic"])
def test_metrics_are_complete_and_json_safe(models: dict[str, TrainedModel], kind: str) -> None:
    metrics = models[kind].metrics
    for key in (
        "validation_auc_roc",
        "validation_pr_auc",
        "validation_brier",
        "validation_brier_prevalence",
        "validation_recall_at_precision_0.30",
        "validation_precision_at_threshold",
        "validation_recall_at_threshold",
        "threshold_rule_met",
        "n_train_encounters",
    ):
        assert key in metrics
    assert metrics["evaluation_unit"] == "encounter"
    json.dumps(metrics, allow_nan=False)
    assert 0.0 <= models[kind].threshold <= 1.0


@pytest.mark.parametrize("kind", ["lightgbm", "logistic"])
def test_artifacts_round_trip_without_pickle(
    models: dict[str, TrainedModel], sample: pl.DataFrame, kind: str
) -> None:
    model = models[kind]
    files = model.to_artifacts()
    for name, payload in files.items():
        text = payload.decode("utf-8")  # plain text, never a pickle
        if name.endswith(".json"):
            json.loads(text)
    assert ("booster.txt" in files) == (kind == "lightgbm")
    assert ("logistic.json" in files) == (kind == "logistic")
    loaded = TrainedModel.from_artifacts(files)
    assert loaded.threshold == model.threshold
    assert loaded.feature_names == model.feature_names
    a = predict_proba(model, sample.head(300))["probability"].to_numpy()
    b = predict_proba(loaded, sample.head(300))["probability"].to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def _damaged(files: dict[str, bytes], how: str) -> dict[str, bytes]:
    out = dict(files)
    manifest = json.loads(out["manifest.json"])
    if how == "no_manifest":
        del out["manifest.json"]
    elif how == "not_json":
        out["manifest.json"] = b"{not json"
    elif how == "no_booster":
        del out["booster.txt"]
    elif how == "garbage_booster":
        out["booster.txt"] = b"this is not a model"
    elif how == "extra_feature":
        manifest["preprocessor"]["numeric"].append("invented")
        out["manifest.json"] = json.dumps(manifest).encode()
    elif how == "bad_threshold":
        manifest["threshold"] = 3.0
        out["manifest.json"] = json.dumps(manifest).encode()
    elif how == "bad_calibrator":
        manifest["calibrator"] = {"method": "isotonic", "x": [1, 0], "y": [0.1, 0.2]}
        out["manifest.json"] = json.dumps(manifest).encode()
    elif how == "future_format":
        manifest["format_version"] = 99
        out["manifest.json"] = json.dumps(manifest).encode()
    return out


@pytest.mark.parametrize(
    "how",
    [
        "no_manifest",
        "not_json",
        "no_booster",
        "garbage_booster",
        "extra_feature",
        "bad_threshold",
        "bad_calibrator",
        "future_format",
    ],
)
def test_malformed_bundles_are_refused(models: dict[str, TrainedModel], how: str) -> None:
    files = _damaged(models["lightgbm"].to_artifacts(), how)
    with pytest.raises(InvalidInputError) as info:
        TrainedModel.from_artifacts(files)
    assert info.value.hint


def test_logistic_bundle_with_wrong_coefficients_is_refused(
    models: dict[str, TrainedModel],
) -> None:
    files = models["logistic"].to_artifacts()
    state = json.loads(files["logistic.json"])
    state["numeric_coef"] = state["numeric_coef"][:-1]
    files["logistic.json"] = json.dumps(state).encode()
    with pytest.raises(InvalidInputError, match="coefficients"):
        TrainedModel.from_artifacts(files)


def test_patient_split_never_shares_a_patient() -> None:
    rng = np.random.default_rng(1)
    patients = rng.integers(0, 500, 3000)
    held = patient_split(patients, 0.2, seed=3)
    assert set(patients[held]).isdisjoint(patients[~held])
    assert 0.1 < held.mean() < 0.3


def test_training_refuses_one_class(sample: pl.DataFrame) -> None:
    frame = sample.with_columns(pl.lit("NO").alias("readmitted"))
    with pytest.raises(InvalidInputError, match="one label class"):
        train(frame)


def test_training_refuses_too_little_data(sample: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="at least"):
        train(sample.head(10))


def test_threshold_rule_max_recall_at_precision() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    t, met = choose_threshold(y, p, ThresholdConfig(precision=0.5))
    # at 0.6: 3 of 4 flagged are positive (precision 0.75), recall 1.0 -- the best
    assert met
    assert t == pytest.approx(0.6)
    t, met = choose_threshold(y, p, ThresholdConfig(rule="recall_target", recall=0.6))
    assert met
    assert t == pytest.approx(0.8)
    t, met = choose_threshold(y, p, ThresholdConfig(rule="fixed", value=0.33))
    assert t == pytest.approx(0.33)


def test_threshold_rule_falls_back_when_precision_is_unreachable() -> None:
    y = np.array([0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.1])
    _, met = choose_threshold(y, p, ThresholdConfig(precision=0.9))
    assert met is False


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibrators_are_monotone_and_bounded(method: str) -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=2000)
    y = (rng.uniform(size=2000) < 1 / (1 + np.exp(-raw))).astype(float)
    cal = fit_calibrator(raw, y, method)  # type: ignore[arg-type]
    grid = np.linspace(-50, 50, 501)
    out = cal(grid)
    assert np.all((out >= 0) & (out <= 1))
    assert np.all(np.diff(out) >= -1e-12)
    assert Calibrator.model_validate_json(cal.model_dump_json()) == cal


def test_encounter_metrics_brier_reference() -> None:
    y = np.array([0, 0, 0, 1])
    p = np.array([0.1, 0.2, 0.1, 0.7])
    m = encounter_metrics(y, p, 0.5, reference_prevalence=0.25)
    assert m["brier_prevalence"] == pytest.approx(np.mean((0.25 - y) ** 2))
    assert m["auc_roc"] == pytest.approx(1.0)
    assert m["recall_at_threshold"] == pytest.approx(1.0)
