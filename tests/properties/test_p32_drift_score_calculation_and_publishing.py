"""Property 32: drift scores equal reference implementations (scipy / numpy) to 1e-9 and are
published as metrics."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from modelyard.quality.columns import summarize
from modelyard.quality.drift import (
    PSI_EPSILON,
    binned_counts,
    chi_square,
    jensen_shannon,
    ks_test,
    psi,
    psi_edges,
    wasserstein_normalised,
)
from modelyard.quality.service import NAMESPACE
from tests.properties.quality_support import CATEGORIES, monitor_stack

TOL = 1e-9

numbers = st.lists(
    st.integers(-30, 30) | st.floats(-50, 50, allow_nan=False, width=16), min_size=1, max_size=80
)
labels = st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=80)


def _dist(values: list[float]):  # type: ignore[no-untyped-def]
    col = summarize(pl.DataFrame({"v": values}, schema={"v": pl.Float64})).columns["v"]
    assert col.numeric is not None
    return col.numeric.distribution


def _counts(values: list[str]) -> dict[str, int]:
    col = summarize(pl.DataFrame({"v": values})).columns["v"]
    assert col.categories is not None
    return col.categories.counts


@pytest.mark.filterwarnings("ignore:ks_2samp:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(numbers, numbers)
def test_p32_ks_and_wasserstein_equal_scipy(a: list[float], b: list[float]) -> None:
    ra, rb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ours = ks_test(_dist(a), _dist(b))
    ref = stats.ks_2samp(ra, rb)
    assert ours.statistic == pytest.approx(ref.statistic, abs=TOL)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=TOL)
    w_norm, w_raw, _divisor = wasserstein_normalised(_dist(a), _dist(b))
    expected_raw = stats.wasserstein_distance(ra, rb)
    std = ra.std()
    assert w_raw == pytest.approx(expected_raw, abs=TOL)
    assert w_norm == pytest.approx(expected_raw / (std if std > 0 else 1.0), abs=TOL, rel=TOL)


@settings(max_examples=30, deadline=None)
@given(st.integers(10_001, 30_000), st.integers(5, 2_000), st.integers(0, 2**32 - 1))
def test_p32_ks_asymptotic_branch_equals_scipy(n1: int, n2: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 40, n1).astype(np.float64)
    b = rng.integers(1, 42, n2).astype(np.float64)
    ours = ks_test(_dist(a.tolist()), _dist(b.tolist()))
    ref = stats.ks_2samp(a, b)
    assert ours.statistic == pytest.approx(ref.statistic, abs=TOL)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=TOL)


@settings(max_examples=60, deadline=None)
@given(labels, labels)
def test_p32_chi_square_psi_js_equal_references(a: list[str], b: list[str]) -> None:
    keys = sorted(set(a) | set(b))
    r = np.array([a.count(k) for k in keys], dtype=np.float64)
    c = np.array([b.count(k) for k in keys], dtype=np.float64)
    ours = chi_square(_counts(a), _counts(b))
    table = np.vstack([r, c])
    if len(keys) >= 2:
        ref = stats.chi2_contingency(table, correction=False)
        assert ours.statistic == pytest.approx(ref.statistic, abs=TOL, rel=TOL)
        assert ours.p_value == pytest.approx(ref.pvalue, abs=TOL)
        v = stats.contingency.association(table.astype(np.int64), method="cramer")
        assert ours.effect_size == pytest.approx(v, abs=TOL)
    else:
        assert (ours.statistic, ours.p_value) == (0.0, 1.0)
    rp = np.clip(r / r.sum(), PSI_EPSILON, None)
    cp = np.clip(c / c.sum(), PSI_EPSILON, None)
    assert psi(r, c) == pytest.approx(float(np.sum((cp - rp) * np.log(cp / rp))), abs=TOL)
    js = distance.jensenshannon(r / r.sum(), c / c.sum(), base=2)
    assert jensen_shannon(r, c) == pytest.approx(float(js), abs=TOL)


@settings(max_examples=40, deadline=None)
@given(numbers, numbers)
def test_p32_numeric_psi_bins_equal_numpy(a: list[float], b: list[float]) -> None:
    ra, rb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    edges = psi_edges(_dist(a), 10)
    expected_edges = sorted(set(np.quantile(ra, [i / 10 for i in range(1, 10)]).tolist()))
    assert edges == pytest.approx(expected_edges, abs=TOL)
    r = np.bincount(np.searchsorted(edges, ra, side="left"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, rb, side="left"), minlength=len(edges) + 1)
    assert binned_counts(_dist(a), edges).tolist() == r.tolist()
    assert binned_counts(_dist(b), edges).tolist() == c.tolist()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0, 3))
def test_p32_scores_are_published_as_metrics(seed: int, shift: float) -> None:
    stack = monitor_stack()
    rng = np.random.default_rng(seed)
    ref = pl.DataFrame({"x": rng.normal(0, 1, 300), "c": rng.choice(CATEGORIES, 300)})
    cur = pl.DataFrame({"x": rng.normal(shift, 1, 200), "c": rng.choice(CATEGORIES[:4], 200)})
    stack.monitor.create_baseline(ref, model="m", version=1)
    report = stack.monitor.check(cur, model="m", version=1, batch_id="b")
    now = stack.clock.now
    window = {
        "start": now - timedelta(seconds=1),
        "end": now + timedelta(seconds=1),
        "period_s": 60,
    }
    dims = {"model": "m", "version": "1"}
    (point,) = stack.sink.get_metric_statistics(NAMESPACE, "DriftScore", dimensions=dims, **window)
    assert point.maximum == report.drift_score
    for f in report.features:
        (fp,) = stack.sink.get_metric_statistics(
            NAMESPACE, "FeatureDriftScore", dimensions={**dims, "feature": f.column}, **window
        )
        assert fp.maximum == f.score
    (cp,) = stack.sink.get_metric_statistics(NAMESPACE, "Completeness", dimensions=dims, **window)
    assert cp.maximum == report.quality.completeness
