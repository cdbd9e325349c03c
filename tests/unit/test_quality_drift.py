"""Per-feature drift verdicts: method rule, signals, untestable cases, dataset verdict."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from modelyard.errors import InvalidInputError
from modelyard.quality.columns import summarize
from modelyard.quality.drift import DriftConfig, FeatureDrift, column_drift, dataset_drift

RNG = np.random.default_rng(11)


def cols(ref: list[object] | np.ndarray, cur: list[object] | np.ndarray):  # type: ignore[no-untyped-def]
    a = summarize(pl.DataFrame({"v": ref}, strict=False)).columns["v"]
    b = summarize(pl.DataFrame({"v": cur}, strict=False)).columns["v"]
    return a, b


def test_small_samples_use_hypothesis_tests() -> None:
    f = column_drift(*cols(RNG.normal(0, 1, 300), RNG.normal(0, 1, 200)), DriftConfig())
    assert f.method == "ks"
    assert f.p_value is not None
    assert f.effect_size == f.score
    g = column_drift(*cols(["a", "b"] * 100, ["a", "b", "b"] * 50), DriftConfig())
    assert g.method == "chi_square"
    assert g.p_value is not None
    assert g.details["cramers_v"] == g.effect_size


def test_large_samples_use_distances_so_trivial_shifts_do_not_flag() -> None:
    ref = RNG.normal(0, 1, 200_000)
    cur = RNG.normal(0.02, 1, 200_000)  # a trivial shift: KS p-value tiny, distance small
    f = column_drift(*cols(ref, cur), DriftConfig())
    assert f.method == "wasserstein"
    assert f.p_value is None
    assert f.details["ks_p_value"] is not None
    assert f.details["ks_p_value"] < 0.05
    assert f.score is not None
    assert f.score < 0.1
    assert not f.drifted
    big = column_drift(*cols(ref, RNG.normal(0.5, 1, 200_000)), DriftConfig())
    assert big.drifted
    assert big.reasons == ("distribution",)
    cats = column_drift(
        *cols(RNG.choice(["a", "b"], 5000).tolist(), RNG.choice(["a", "b"], 5000).tolist()),
        DriftConfig(),
    )
    assert cats.method == "jensen_shannon"
    assert not cats.drifted


def test_method_override_and_bad_override() -> None:
    f = column_drift(
        *cols(RNG.normal(0, 1, 100), RNG.normal(3, 1, 100)), DriftConfig(methods={"v": "psi"})
    )
    assert f.method == "psi"
    assert f.threshold == 0.2
    assert f.drifted
    g = column_drift(*cols(["a"] * 10, ["b"] * 10), DriftConfig(methods={"v": "ks"}))
    assert not g.tested
    assert "does not apply" in (g.reason or "")
    with pytest.raises(InvalidInputError):
        DriftConfig(methods={"v": "magic"})  # type: ignore[dict-item]
    with pytest.raises(InvalidInputError):
        DriftConfig(alpha=2)
    with pytest.raises(InvalidInputError):
        DriftConfig(drift_share=0)


def test_missing_rate_and_unseen_categories_are_signals() -> None:
    f = column_drift(*cols(["a", "b"] * 50, ["a", "b", None, None] * 25), DriftConfig())
    assert "missing_rate" in f.reasons
    assert f.drifted
    assert f.missing_rate_ref == 0.0
    assert f.missing_rate_cur == 0.5
    g = column_drift(*cols(["a", "b"] * 50, ["a", "b"] * 45 + ["zz"] * 10), DriftConfig())
    assert g.unseen_categories == ("zz",)
    assert g.unseen_share == pytest.approx(0.1)
    assert "unseen_categories" in g.reasons


def test_what_cannot_be_tested_says_why_and_has_no_score() -> None:
    all_missing = column_drift(*cols([1.0, 2.0], [None, None]), DriftConfig())
    assert not all_missing.tested
    assert all_missing.score is None
    assert "all missing" in (all_missing.reason or "")
    assert "missing_rate" in all_missing.reasons
    ref_missing = column_drift(*cols([None, None], [1.0]), DriftConfig())
    assert not ref_missing.tested
    assert "reference has no values" in (ref_missing.reason or "")
    changed = column_drift(*cols([1, 2], ["a", "b"]), DriftConfig())
    assert not changed.tested
    assert changed.reasons == ("type_changed",)
    single = column_drift(*cols([1.0, 2.0, 3.0], [2.0]), DriftConfig())
    assert single.tested
    assert single.p_value is not None


def test_dataset_drift_share_and_weights() -> None:
    def f(name: str, drifted: bool, tested: bool = True) -> FeatureDrift:
        return FeatureDrift(
            column=name,
            kind="numeric",
            tested=tested,
            drifted=drifted,
            reasons=("distribution",) if drifted else (),
        )

    features = [f("a", True), f("b", False), f("c", False), f("d", False, tested=False)]
    verdict = dataset_drift(features, DriftConfig(drift_share=0.3))
    assert verdict.tested_features == 3
    assert verdict.drift_score == pytest.approx(1 / 3)
    assert verdict.dataset_drift
    weighted = dataset_drift(features, DriftConfig(weights={"a": 0.1}, drift_share=0.3))
    assert weighted.drift_score == pytest.approx(0.1 / 2.1)
    assert not weighted.dataset_drift
    assert dataset_drift([], DriftConfig()).dataset_drift is False
