"""Drift statistics and per-feature drift verdicts. Pure: numpy + scipy, no I/O.

The statistics work on *distributions*, not rows: a numeric column is a
:class:`~modelyard.quality.columns.Distribution` (sorted values with counts), a categorical
column a mapping of category to count. Both come from the one statistics pass
(:func:`modelyard.quality.columns.summarize`), so a baseline never keeps raw rows. While the
distributions are exact (value counts) every statistic equals scipy's on the raw values.

Statistics (scipy where it has them):

- ``ks``: two-sample Kolmogorov-Smirnov statistic D and p-value (``scipy.stats.ks_2samp``;
  for samples above 10,000 the same asymptotic ``kstwo`` formula scipy uses).
- ``chi_square``: Pearson chi-square of the 2 x k contingency table of category counts
  (``scipy.stats.chi2_contingency``, no continuity correction), p-value, Cramér's V.
- ``psi``: population stability index over reference-quantile bins (numbers) or categories,
  with shares clipped at ``PSI_EPSILON`` so empty bins stay finite.
- ``jensen_shannon``: Jensen-Shannon *distance* in base 2, within [0, 1]
  (``scipy.spatial.distance.jensenshannon``).
- ``wasserstein``: Wasserstein-1 distance (``scipy.stats.wasserstein_distance``) divided by
  the reference's standard deviation (population), so it reads in reference-std units.

The default method per column (``DriftConfig``) follows type and sample size:

=================  ==================================  ==================================
column kind        both samples <= ``small_sample``     otherwise (large samples)
=================  ==================================  ==================================
numeric, datetime  ``ks``: drifted if p < alpha          ``wasserstein``: drifted if >= 0.1
categorical, bool  ``chi_square``: drifted if p < alpha  ``jensen_shannon``: drifted if >= 0.1
text, other        not tested (reason given)             not tested
=================  ==================================  ==================================

Why: with a thousand rows or fewer a hypothesis test has the power to see real shifts and
guards against noise; with a million rows every p-value is ~0 for shifts nobody cares about,
so large samples are judged by an effect size (a distance with a threshold). Every p-value is
reported beside an effect size (KS D, Cramér's V) either way.

Missing-rate change and unseen categories are drift signals of their own: a feature drifts
if its distribution drifts, its missing rate moves by more than ``missing_rate_threshold``
(absolute), or categories unseen in the reference exceed ``unseen_share_threshold`` of the
current values. The dataset drifts when the (weighted) share of drifted features among the
tested ones reaches ``drift_share``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from modelyard.errors import InvalidInputError
from modelyard.quality.columns import ColumnSummary, Distribution, Kind

__all__ = [
    "METHODS",
    "PSI_EPSILON",
    "DatasetDrift",
    "DriftConfig",
    "FeatureDrift",
    "Method",
    "StatResult",
    "chi_square",
    "column_drift",
    "dataset_drift",
    "jensen_shannon",
    "ks_test",
    "psi",
    "psi_edges",
    "wasserstein_normalised",
]

Method = Literal["ks", "chi_square", "psi", "jensen_shannon", "wasserstein"]
METHODS: tuple[Method, ...] = ("ks", "chi_square", "psi", "jensen_shannon", "wasserstein")
NUMERIC_METHODS = frozenset({"ks", "psi", "wasserstein", "jensen_shannon"})
CATEGORICAL_METHODS = frozenset({"chi_square", "psi", "jensen_shannon"})
PSI_EPSILON = 1e-4
_KS_MAX_EXACT_N = 10_000  # scipy's 'auto' switches to the asymptotic formula above this

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StatResult:
    """One statistic: its value, its p-value (if the method has one) and an effect size."""

    statistic: float
    p_value: float | None
    effect_size: float


# ---------------------------------------------------------------------------------------------
# the statistics
# ---------------------------------------------------------------------------------------------


def ks_test(ref: Distribution, cur: Distribution) -> StatResult:
    """Two-sample KS on two distributions (equal to ``scipy.stats.ks_2samp`` on the raw values).

    Raises:
        InvalidInputError: a sample is empty.
    """
    from scipy import stats  # imported on use: scipy.stats is slow to import

    n1, n2 = _sample_size(ref), _sample_size(cur)
    support = np.union1d(ref.values, cur.values)
    d = float(np.max(np.abs(ref.cdf(support) - cur.cdf(support))))
    if max(n1, n2) <= _KS_MAX_EXACT_N and ref.exact and cur.exact:
        # small exact samples: rebuild them and let scipy compute the exact p-value
        with warnings.catch_warnings():
            # scipy warns when its exact p-value falls back to the asymptotic one; the
            # result is still scipy's, so the warning is noise to a monitoring user
            warnings.simplefilter("ignore", RuntimeWarning)
            res = stats.ks_2samp(
                np.repeat(ref.values, ref.weights.astype(np.int64)),
                np.repeat(cur.values, cur.weights.astype(np.int64)),
            )
        return StatResult(float(res.statistic), float(res.pvalue), float(res.statistic))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))
    return StatResult(d, p, d)


def _sample_size(dist: Distribution) -> int:
    n = round(dist.total)
    if n <= 0:
        raise InvalidInputError("a drift statistic needs at least one value on each side")
    return n


def _aligned(ref: Mapping[str, float], cur: Mapping[str, float]) -> tuple[FloatArray, FloatArray]:
    keys = list(dict.fromkeys([*ref, *cur]))
    r = np.array([float(ref.get(k, 0)) for k in keys], dtype=np.float64)
    c = np.array([float(cur.get(k, 0)) for k in keys], dtype=np.float64)
    return r, c


def chi_square(ref: Mapping[str, float], cur: Mapping[str, float]) -> StatResult:
    """Pearson chi-square of the 2 x k table of category counts; effect size Cramér's V.

    With fewer than two categories in use there is nothing to test: statistic 0, p 1.

    Raises:
        InvalidInputError: a side has no values.
    """
    from scipy import stats

    r, c = _aligned(ref, cur)
    if r.sum() <= 0 or c.sum() <= 0:
        raise InvalidInputError("a drift statistic needs at least one value on each side")
    table = np.vstack([r, c])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return StatResult(0.0, 1.0, 0.0)
    res = stats.chi2_contingency(table, correction=False)
    statistic = float(res.statistic)
    cramers_v = math.sqrt(statistic / table.sum())  # min(rows, cols) - 1 == 1 for 2 x k
    return StatResult(statistic, float(res.pvalue), cramers_v)


def psi(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike) -> float:
    """Population stability index of two count vectors over the same bins.

    ``sum((c - r) * ln(c / r))`` over bin shares, each clipped below at ``PSI_EPSILON``.

    Raises:
        InvalidInputError: the vectors differ in length or a side is empty.
    """
    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    if r.shape != c.shape:
        raise InvalidInputError(f"PSI needs the same bins on both sides ({r.size} vs {c.size})")
    if r.sum() <= 0 or c.sum() <= 0:
        raise InvalidInputError("a drift statistic needs at least one value on each side")
    rp = np.clip(r / r.sum(), PSI_EPSILON, None)
    cp = np.clip(c / c.sum(), PSI_EPSILON, None)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def psi_edges(ref: Distribution, bins: int = 10) -> list[float]:
    """Inner bin edges at the reference's quantiles (distinct, ascending).

    Bins are (-inf, e1], (e1, e2], …, (ek, inf): each value falls in bin
    ``searchsorted(edges, x, side="left")``.
    """
    qs = [i / bins for i in range(1, bins)]
    edges = [q for q in ref.quantiles(qs) if q is not None]
    return sorted(set(edges))


def binned_counts(dist: Distribution, edges: Sequence[float]) -> FloatArray:
    """Weights per bin of ``psi_edges`` (right-closed bins, open at both ends)."""
    cum = np.concatenate([[0.0], np.cumsum(dist.weights)])
    at = cum[np.searchsorted(dist.values, np.asarray(edges, dtype=np.float64), side="right")]
    result: FloatArray = np.diff(np.concatenate([[0.0], at, [cum[-1]]]))
    return result


def jensen_shannon(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of two count vectors over the same bins.

    Raises:
        InvalidInputError: the vectors differ in length or a side is empty.
    """
    from scipy.spatial import distance

    r = np.asarray(ref_counts, dtype=np.float64)
    c = np.asarray(cur_counts, dtype=np.float64)
    if r.shape != c.shape:
        raise InvalidInputError(f"JS needs the same bins on both sides ({r.size} vs {c.size})")
    if r.sum() <= 0 or c.sum() <= 0:
        raise InvalidInputError("a drift statistic needs at least one value on each side")
    value = float(distance.jensenshannon(r / r.sum(), c / c.sum(), base=2))
    return 0.0 if math.isnan(value) else value


def wasserstein_normalised(ref: Distribution, cur: Distribution) -> tuple[float, float, float]:
    """Wasserstein-1 distance divided by the reference's population std.

    Returns (normalised distance, raw distance, the divisor). A constant reference (std 0)
    divides by 1, so the score is the raw distance in the column's units.

    Raises:
        InvalidInputError: a sample is empty.
    """
    from scipy import stats

    _sample_size(ref)
    _sample_size(cur)
    raw = float(stats.wasserstein_distance(ref.values, cur.values, ref.weights, cur.weights))
    mean = float(np.average(ref.values, weights=ref.weights))
    std = float(np.sqrt(np.average((ref.values - mean) ** 2, weights=ref.weights)))
    divisor = std if std > 0 else 1.0
    return raw / divisor, raw, divisor


# ---------------------------------------------------------------------------------------------
# per-feature verdicts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftConfig:
    """How drift is judged. Thresholds per method; see the module docstring for the rule.

    Attributes:
        alpha: significance level of ``ks`` and ``chi_square`` (drifted if p < alpha).
        thresholds: drifted if score >= threshold, for ``psi``, ``jensen_shannon``,
            ``wasserstein``.
        small_sample: at or below this many values on either side, hypothesis tests are the
            default; above, distances.
        methods: method per column, overriding the default.
        weights: weight per column in the dataset drift score (default 1).
        drift_share: the dataset drifts when the weighted share of drifted features >= this.
        missing_rate_threshold: a feature drifts if |missing rate change| > this.
        unseen_share_threshold: a feature drifts if unseen categories are more than this share
            of its current values.
        psi_bins: reference-quantile bins for numeric PSI (and numeric JS).
    """

    alpha: float = 0.05
    thresholds: Mapping[str, float] = field(
        default_factory=lambda: {"psi": 0.2, "jensen_shannon": 0.1, "wasserstein": 0.1}
    )
    small_sample: int = 1000
    methods: Mapping[str, Method] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    drift_share: float = 0.5
    missing_rate_threshold: float = 0.05
    unseen_share_threshold: float = 0.01
    psi_bins: int = 10

    def __post_init__(self) -> None:
        for col, method in self.methods.items():
            if method not in METHODS:
                raise InvalidInputError(
                    f"unknown drift method {method!r} for column {col!r}; use one of {METHODS}"
                )
        if not 0 < self.alpha < 1:
            raise InvalidInputError(f"alpha must be within (0, 1), got {self.alpha}")
        if not 0 < self.drift_share <= 1:
            raise InvalidInputError(f"drift_share must be within (0, 1], got {self.drift_share}")
        if self.psi_bins < 2:
            raise InvalidInputError(f"psi_bins must be at least 2, got {self.psi_bins}")

    def threshold(self, method: Method) -> float:
        if method in ("ks", "chi_square"):
            return self.alpha
        defaults = {"psi": 0.2, "jensen_shannon": 0.1, "wasserstein": 0.1}
        return float(self.thresholds.get(method, defaults[method]))

    def default_method(self, kind: Kind, n_ref: int, n_cur: int) -> Method | None:
        small = min(n_ref, n_cur) <= self.small_sample
        if kind in ("numeric", "datetime"):
            return "ks" if small else "wasserstein"
        if kind in ("categorical", "boolean"):
            return "chi_square" if small else "jensen_shannon"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "thresholds": {m: self.threshold(m) for m in METHODS},
            "small_sample": self.small_sample,
            "methods": dict(self.methods),
            "weights": dict(self.weights),
            "drift_share": self.drift_share,
            "missing_rate_threshold": self.missing_rate_threshold,
            "unseen_share_threshold": self.unseen_share_threshold,
            "psi_bins": self.psi_bins,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        thresholds = {
            k: float(v) for k, v in dict(data.get("thresholds", {})).items() if k in METHODS
        }
        thresholds.pop("ks", None)
        thresholds.pop("chi_square", None)
        return cls(
            alpha=float(data.get("alpha", 0.05)),
            thresholds=thresholds or {"psi": 0.2, "jensen_shannon": 0.1, "wasserstein": 0.1},
            small_sample=int(data.get("small_sample", 1000)),
            methods=dict(data.get("methods", {})),
            weights={k: float(v) for k, v in dict(data.get("weights", {})).items()},
            drift_share=float(data.get("drift_share", 0.5)),
            missing_rate_threshold=float(data.get("missing_rate_threshold", 0.05)),
            unseen_share_threshold=float(data.get("unseen_share_threshold", 0.01)),
            psi_bins=int(data.get("psi_bins", 10)),
        )


@dataclass(frozen=True)
class FeatureDrift:
    """The drift verdict of one feature.

    ``tested`` False means the distribution could not be compared; ``reason`` says why and
    ``score``/``p_value`` are None (never NaN). ``reasons`` lists every signal that fired.
    """

    column: str
    kind: str
    tested: bool
    method: Method | None = None
    score: float | None = None
    p_value: float | None = None
    effect_size: float | None = None
    threshold: float | None = None
    drifted: bool = False
    reasons: tuple[str, ...] = ()
    reason: str | None = None
    missing_rate_ref: float | None = None
    missing_rate_cur: float | None = None
    unseen_categories: tuple[str, ...] = ()
    unseen_share: float = 0.0
    details: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "tested": self.tested,
            "method": self.method,
            "score": self.score,
            "p_value": self.p_value,
            "effect_size": self.effect_size,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reasons": list(self.reasons),
            "reason": self.reason,
            "missing_rate_ref": self.missing_rate_ref,
            "missing_rate_cur": self.missing_rate_cur,
            "unseen_categories": list(self.unseen_categories),
            "unseen_share": self.unseen_share,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureDrift:
        return cls(
            column=data["column"],
            kind=data["kind"],
            tested=bool(data["tested"]),
            method=data.get("method"),
            score=data.get("score"),
            p_value=data.get("p_value"),
            effect_size=data.get("effect_size"),
            threshold=data.get("threshold"),
            drifted=bool(data.get("drifted", False)),
            reasons=tuple(data.get("reasons", ())),
            reason=data.get("reason"),
            missing_rate_ref=data.get("missing_rate_ref"),
            missing_rate_cur=data.get("missing_rate_cur"),
            unseen_categories=tuple(data.get("unseen_categories", ())),
            unseen_share=float(data.get("unseen_share", 0.0)),
            details=dict(data.get("details", {})),
        )


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def column_drift(ref: ColumnSummary, cur: ColumnSummary, config: DriftConfig) -> FeatureDrift:
    """Compare one column of the current data with its reference summary."""
    base: dict[str, Any] = {
        "column": ref.name,
        "kind": ref.kind,
        "missing_rate_ref": ref.missing_rate,
        "missing_rate_cur": cur.missing_rate if cur.rows else None,
    }
    kind_ok = (
        ref.kind == cur.kind
        or {ref.kind, cur.kind} <= {"categorical", "text"}
        or cur.count == 0  # an all-missing column has no type to contradict the other
        or ref.count == 0
    )
    if not kind_ok:
        return FeatureDrift(
            **base,
            tested=False,
            drifted=True,
            reasons=("type_changed",),
            reason=f"type changed: reference is {ref.kind} ({ref.dtype}), "
            f"current is {cur.kind} ({cur.dtype})",
        )
    reasons: list[str] = []
    missing_delta = None
    if cur.rows:
        missing_delta = cur.missing_rate - ref.missing_rate
        if abs(missing_delta) > config.missing_rate_threshold:
            reasons.append("missing_rate")
    unseen: tuple[str, ...] = ()
    unseen_share = 0.0
    if ref.categories is not None and cur.categories is not None and cur.count:
        unseen_counts = {
            v: c for v, c in cur.categories.counts.items() if v not in ref.categories.counts
        }
        unseen = tuple(sorted(unseen_counts, key=lambda v: -unseen_counts[v])[:50])
        unseen_share = sum(unseen_counts.values()) / cur.count
        if unseen_counts and unseen_share > config.unseen_share_threshold:
            reasons.append("unseen_categories")
    base.update(unseen_categories=unseen, unseen_share=unseen_share)
    details: dict[str, float | None] = {"missing_rate_delta": missing_delta}

    method = config.methods.get(ref.name) or config.default_method(ref.kind, ref.count, cur.count)
    why_not = _why_untestable(ref, cur, method)
    if why_not is not None:
        return FeatureDrift(
            **base,
            tested=False,
            method=method,
            drifted=bool(reasons),
            reasons=tuple(reasons),
            reason=why_not,
            details=details,
        )
    if method is None:  # _why_untestable refuses None; this keeps the type checker informed
        raise InvalidInputError(f"no drift method for column {ref.name!r}")
    result = _compute(method, ref, cur, config, details)
    threshold = config.threshold(method)
    if method in ("ks", "chi_square"):
        dist_drift = result.p_value is not None and result.p_value < threshold
    else:
        dist_drift = result.statistic >= threshold
    if dist_drift:
        reasons.insert(0, "distribution")
    return FeatureDrift(
        **base,
        tested=True,
        method=method,
        score=_finite(result.statistic),
        p_value=_finite(result.p_value),
        effect_size=_finite(result.effect_size),
        threshold=threshold,
        drifted=bool(reasons),
        reasons=tuple(reasons),
        details={k: _finite(v) for k, v in details.items()},
    )


def _why_untestable(ref: ColumnSummary, cur: ColumnSummary, method: Method | None) -> str | None:
    if method is None:
        return f"{ref.kind} columns have no distribution test"
    numeric = ref.kind in ("numeric", "datetime")
    allowed = NUMERIC_METHODS if numeric else CATEGORICAL_METHODS
    if method not in allowed:
        return f"method {method!r} does not apply to a {ref.kind} column"
    if ref.kind == "text" or cur.kind == "text":
        return "free-text column (too many distinct values to compare distributions)"
    if ref.count == 0:
        return "the reference has no values in this column (all missing)"
    if cur.rows == 0:
        return "the current data has no rows"
    if cur.count == 0:
        return "the current data has no values in this column (all missing)"
    return None


def _compute(
    method: Method,
    ref: ColumnSummary,
    cur: ColumnSummary,
    config: DriftConfig,
    details: dict[str, float | None],
) -> StatResult:
    if ref.numeric is not None and cur.numeric is not None:
        rd, cd = ref.numeric.distribution, cur.numeric.distribution
        ks = ks_test(rd, cd)
        details.update(ks_statistic=ks.statistic, ks_p_value=ks.p_value)
        edges = psi_edges(rd, config.psi_bins)
        rb, cb = binned_counts(rd, edges), binned_counts(cd, edges)
        details["psi"] = psi(rb, cb)
        details["jensen_shannon"] = jensen_shannon(rb, cb)
        w_norm, w_raw, _ = wasserstein_normalised(rd, cd)
        details.update(wasserstein=w_norm, wasserstein_raw=w_raw)
        details["mean_ref"], details["mean_cur"] = ref.numeric.mean, cur.numeric.mean
        if method == "ks":
            return ks
        if method == "wasserstein":
            return StatResult(w_norm, None, w_norm)
        return _scored(details[method])
    if ref.categories is None or cur.categories is None:
        raise InvalidInputError(f"column {ref.name!r} has no distribution to compare")
    rc, cc = ref.categories.counts, cur.categories.counts
    chi = chi_square(rc, cc)
    r, c = _aligned(rc, cc)
    details.update(
        chi_square=chi.statistic,
        chi_square_p_value=chi.p_value,
        cramers_v=chi.effect_size,
        psi=psi(r, c),
        jensen_shannon=jensen_shannon(r, c),
    )
    if method == "chi_square":
        return chi
    return _scored(details[method])


def _scored(value: float | None) -> StatResult:
    score = 0.0 if value is None else value
    return StatResult(score, None, score)


@dataclass(frozen=True)
class DatasetDrift:
    """The dataset verdict: weighted share of drifted features among the tested ones."""

    drift_score: float
    dataset_drift: bool
    drifted_features: tuple[str, ...]
    tested_features: int
    drift_share: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "drift_score": self.drift_score,
            "dataset_drift": self.dataset_drift,
            "drifted_features": list(self.drifted_features),
            "tested_features": self.tested_features,
            "drift_share": self.drift_share,
        }


def dataset_drift(features: Sequence[FeatureDrift], config: DriftConfig) -> DatasetDrift:
    """Weighted share of drifted features; a feature counts if it was judged at all.

    A feature that could not be tested but fired another signal (type change, missing rate)
    counts as judged and drifted; one that could not be judged at all is left out.
    """
    judged = [f for f in features if f.tested or f.reasons]
    total = sum(config.weights.get(f.column, 1.0) for f in judged)
    drifted = [f for f in judged if f.drifted]
    weight = sum(config.weights.get(f.column, 1.0) for f in drifted)
    score = weight / total if total > 0 else 0.0
    return DatasetDrift(
        drift_score=score,
        dataset_drift=bool(judged) and score >= config.drift_share,
        drifted_features=tuple(f.column for f in drifted),
        tested_features=len(judged),
        drift_share=config.drift_share,
    )
