"""Column statistics: one fast pass over a frame, mergeable summaries. Pure (Polars + numpy).

The one statistics function of modelyard: dataset summaries and profiles, monitoring baselines
and drift all read the ``FrameSummary`` that :func:`summarize` returns.

API::

    summary = summarize(frame)                       # pl.DataFrame or pl.LazyFrame
    summary = summarize(frame, kinds={"admission_type_id": "categorical"})
    col = summary.columns["num_lab_procedures"]      # ColumnSummary
    col.kind, col.rows, col.count, col.missing, col.missing_rate, col.distinct
    col.numeric.mean, col.numeric.std, col.numeric.min, col.numeric.quantile(0.5)
    col.numeric.histogram(bins=20)                   # (edges, counts)
    col.categories.counts, col.categories.top(10)    # exact counts per category
    whole = merge_summaries([summarize(part) for part in parts])   # == summarize(whole frame)
    FrameSummary.from_dict(summary.to_dict())        # JSON round trip (no NaN anywhere)

Kinds: ``numeric`` (integers, floats, decimals), ``categorical`` (strings with at most
``max_categories`` distinct values, categoricals, enums), ``boolean``, ``datetime`` (dates and
datetimes; statistics in epoch seconds), ``text`` (strings with more distinct values, or
mostly unique ones such as identifiers; top ``text_top_k`` kept), ``other`` (nested or
binary: counts only). ``kinds=`` overrides the kind by column (e.g. an integer-coded id that
is really a category).

Missing: null, and for floats also NaN and ±inf (non-finite numbers cannot be summarised).

How partitions merge (``merge_summaries``), and what stays exact:

- rows, missing, counts per category, min, max: exact sums / min / max.
- mean and variance: Chan et al.'s parallel update of (count, mean, M2); exact up to float
  rounding.
- the numeric distribution is kept as (sorted values, weights). While a column has at most
  ``max_exact_values`` distinct values (every numeric column of the UCI data) these are the
  exact value counts, so quantiles, histograms and drift tests computed from them equal the
  computations on the raw values, and merging adds counts. Beyond that the distribution is
  compressed to ``sketch_points`` equal-weight buckets (each holding its weighted mean, so the
  sum stays exact); a quantile's rank error is then at most 1/``sketch_points`` of the rows
  per compression, and ``exact`` is False.
- distinct: exact while value counts are exact; for compressed numbers or truncated text it is
  a lower bound after a merge (``distinct_exact`` False).
- text beyond ``max_categories`` distinct values keeps the top ``text_top_k`` counts plus the
  rest (``other``); merged top counts of truncated text are lower bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from modelyard.errors import InvalidInputError

__all__ = [
    "KINDS",
    "CategoryCounts",
    "ColumnSummary",
    "Distribution",
    "FrameSummary",
    "Kind",
    "NumericStats",
    "SummaryOptions",
    "merge_summaries",
    "summarize",
]

Kind = Literal["numeric", "categorical", "boolean", "datetime", "text", "other"]
KINDS: tuple[Kind, ...] = ("numeric", "categorical", "boolean", "datetime", "text", "other")
FloatArray = npt.NDArray[np.float64]

DEFAULT_QUANTILES: tuple[float, ...] = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)


@dataclass(frozen=True)
class SummaryOptions:
    """Limits of a summary (stored with it, so merges use the same limits).

    Attributes:
        max_exact_values: numeric columns keep exact value counts up to this many distinct
            values; beyond, a compressed distribution of ``sketch_points`` buckets.
        sketch_points: buckets of a compressed numeric distribution.
        max_categories: a string column with more distinct values is ``text``.
        text_min_distinct, text_unique_ratio: a string column with more than
            ``text_min_distinct`` distinct values that are more than ``text_unique_ratio`` of
            its values is ``text`` too (identifiers, free text). Applied per pass; merged
            partitions become ``text`` only past ``max_categories``.
        text_top_k: how many of the most frequent values a ``text`` column keeps.
    """

    max_exact_values: int = 10_000
    sketch_points: int = 2_000
    max_categories: int = 1_000
    text_top_k: int = 100
    text_min_distinct: int = 50
    text_unique_ratio: float = 0.5

    def to_dict(self) -> dict[str, float]:
        return {
            "max_exact_values": self.max_exact_values,
            "sketch_points": self.sketch_points,
            "max_categories": self.max_categories,
            "text_top_k": self.text_top_k,
            "text_min_distinct": self.text_min_distinct,
            "text_unique_ratio": self.text_unique_ratio,
        }


# ---------------------------------------------------------------------------------------------
# numeric distribution
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Distribution:
    """A numeric distribution as sorted distinct ``values`` with ``weights`` (counts).

    ``exact`` True: the weights are the exact value counts. False: compressed buckets.
    """

    values: FloatArray
    weights: FloatArray
    exact: bool = True

    @classmethod
    def from_counts(
        cls,
        values: npt.ArrayLike,
        counts: npt.ArrayLike,
        options: SummaryOptions,
        *,
        exact: bool = True,
    ) -> Distribution:
        """Build from (possibly unsorted, possibly repeated) values and counts."""
        v = np.asarray(values, dtype=np.float64)
        w = np.asarray(counts, dtype=np.float64)
        if v.size:
            uniq, inverse = np.unique(v, return_inverse=True)
            if uniq.size != v.size:
                w = np.bincount(inverse, weights=w, minlength=uniq.size).astype(np.float64)
            else:
                w = w[np.argsort(v, kind="stable")]
            v = uniq
        if exact and v.size <= options.max_exact_values:
            return cls(v, w, True)
        if not exact and v.size <= options.sketch_points:
            return cls(v, w, False)
        return cls(*_compress(v, w, options.sketch_points), False)

    @property
    def total(self) -> float:
        return float(self.weights.sum())

    def merge(self, other: Distribution, options: SummaryOptions) -> Distribution:
        return Distribution.from_counts(
            np.concatenate([self.values, other.values]),
            np.concatenate([self.weights, other.weights]),
            options,
            exact=self.exact and other.exact,
        )

    def quantile(self, q: float) -> float | None:
        """The q-quantile with numpy's default (linear) interpolation; None if empty."""
        return self.quantiles([q])[0]

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        n = self.total
        if n <= 0:
            return [None for _ in qs]
        cum = np.cumsum(self.weights)
        out: list[float | None] = []
        for q in qs:
            if not 0.0 <= q <= 1.0:
                raise InvalidInputError(f"a quantile must be within [0, 1], got {q}")
            h = (n - 1) * q
            lo = math.floor(h)
            a = self._value_at_rank(cum, lo)
            b = self._value_at_rank(cum, min(lo + 1, n - 1))
            t = h - lo
            # numpy's _lerp: exact at both ends
            out.append(float(b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t))
        return out

    def _value_at_rank(self, cum: FloatArray, rank: float) -> float:
        idx = int(np.searchsorted(cum, rank, side="right"))
        return float(self.values[min(idx, self.values.size - 1)])

    def histogram(self, edges: npt.ArrayLike) -> FloatArray:
        """Weights per bin, with numpy.histogram's bin rule (last bin closed)."""
        counts, _ = np.histogram(
            self.values, bins=np.asarray(edges, dtype=np.float64), weights=self.weights
        )
        return counts.astype(np.float64)

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        """Share of the weight at or below each x (the empirical CDF)."""
        n = self.total
        cum = np.concatenate([[0.0], np.cumsum(self.weights)])
        idx = np.searchsorted(self.values, np.asarray(x, dtype=np.float64), side="right")
        result: FloatArray = cum[idx] / n if n > 0 else np.zeros(np.shape(idx))
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "exact": self.exact,
            "values": self.values.tolist(),
            "weights": [int(w) if self.exact else float(w) for w in self.weights],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Distribution:
        return cls(
            np.asarray(data["values"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            bool(data["exact"]),
        )


def _compress(values: FloatArray, weights: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """``k`` equal-weight buckets, each at its weighted mean (keeps the sum exact)."""
    total = weights.sum()
    cum = np.cumsum(weights)
    bucket = np.minimum(np.floor((cum - weights / 2) / total * k), k - 1).astype(np.int64)
    w = np.bincount(bucket, weights=weights, minlength=k)
    s = np.bincount(bucket, weights=weights * values, minlength=k)
    keep = w > 0
    w, s = w[keep], s[keep]
    v = s / w
    # a bucket's mean lies between its members, so the order is kept; clip rounding
    v = np.maximum.accumulate(v)
    return v.astype(np.float64), w.astype(np.float64)


@dataclass(frozen=True, eq=False)
class NumericStats:
    """Moments, extremes and the distribution of the non-missing values of a column."""

    count: int
    mean: float | None
    m2: float
    min: float | None
    max: float | None
    distribution: Distribution

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof=1); None below two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1); None below two values."""
        var = self.variance
        return math.sqrt(max(var, 0.0)) if var is not None else None

    @property
    def sum(self) -> float:
        return (self.mean or 0.0) * self.count

    def quantile(self, q: float) -> float | None:
        return self.quantiles([q])[f"{q:g}"]

    def quantiles(self, qs: Sequence[float] = DEFAULT_QUANTILES) -> dict[str, float | None]:
        """Quantiles by name (``"0.5"``); 0 and 1 are the exact min and max."""
        values = self.distribution.quantiles(qs)
        out: dict[str, float | None] = {}
        for q, v in zip(qs, values, strict=True):
            if v is not None and self.min is not None and self.max is not None:
                v = min(max(v, self.min), self.max)
                v = self.min if q == 0.0 else self.max if q == 1.0 else v
            out[f"{q:g}"] = v
        return out

    def histogram(self, bins: int = 20) -> tuple[list[float], list[float]]:
        """``bins`` equal-width bins between min and max: (edges, weights)."""
        if self.count == 0 or self.min is None or self.max is None:
            return [], []
        lo, hi = self.min, self.max
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, bins + 1)
        return edges.tolist(), self.distribution.histogram(edges).tolist()

    def merge(self, other: NumericStats, options: SummaryOptions) -> NumericStats:
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        a_mean, b_mean = _f(self.mean), _f(other.mean)
        n = self.count + other.count
        delta = b_mean - a_mean
        mean = a_mean + delta * other.count / n
        m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / n
        return NumericStats(
            count=n,
            mean=mean,
            m2=m2,
            min=min(_f(self.min), _f(other.min)),
            max=max(_f(self.max), _f(other.max)),
            distribution=self.distribution.merge(other.distribution, options),
        )

    def to_dict(self, *, bins: int = 20, include_state: bool = True) -> dict[str, Any]:
        edges, counts = self.histogram(bins)
        body: dict[str, Any] = {
            "count": self.count,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "sum": self.sum,
            "quantiles": self.quantiles(),
            "histogram": {"edges": edges, "counts": counts},
            "exact": self.distribution.exact,
        }
        if include_state:
            body["state"] = {"m2": self.m2, "distribution": self.distribution.to_dict()}
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericStats:
        state = data["state"]
        return cls(
            count=int(data["count"]),
            mean=data["mean"],
            m2=float(state["m2"]),
            min=data["min"],
            max=data["max"],
            distribution=Distribution.from_dict(state["distribution"]),
        )


def _f(value: float | None) -> float:
    if value is None:  # callers check count > 0 first
        raise InvalidInputError("a statistic of an empty column was used as a number")
    return value


# ---------------------------------------------------------------------------------------------
# categories
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryCounts:
    """Counts per category (most frequent first) plus ``other``: the count not itemised."""

    counts: dict[str, int]
    other: int = 0
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.other

    def top(self, k: int = 10) -> tuple[list[tuple[str, int]], int]:
        """The ``k`` most frequent (value, count) pairs and the count of all the rest."""
        items = list(self.counts.items())[:k]
        return items, self.total - sum(c for _, c in items)

    def merge(self, other: CategoryCounts, options: SummaryOptions, kind: Kind) -> CategoryCounts:
        merged = dict(self.counts)
        for value, count in other.counts.items():
            merged[value] = merged.get(value, 0) + count
        return _category_counts(
            merged, self.other + other.other, self.truncated or other.truncated, options, kind
        )

    def to_dict(self, *, top_k: int = 20, include_state: bool = True) -> dict[str, Any]:
        total = self.total
        items, rest = self.top(top_k)
        body: dict[str, Any] = {
            "top": [
                {"value": v, "count": c, "share": c / total if total else 0.0} for v, c in items
            ],
            "rest": rest,
            "truncated": self.truncated,
        }
        if include_state:
            body["state"] = {"counts": self.counts, "other": self.other}
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoryCounts:
        state = data["state"]
        return cls(
            {str(k): int(v) for k, v in state["counts"].items()},
            int(state["other"]),
            bool(data["truncated"]),
        )


def _category_counts(
    counts: Mapping[str, int], other: int, truncated: bool, options: SummaryOptions, kind: Kind
) -> CategoryCounts:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if kind == "text" and len(ordered) > options.text_top_k:
        other += sum(c for _, c in ordered[options.text_top_k :])
        ordered = ordered[: options.text_top_k]
        truncated = True
    return CategoryCounts(dict(ordered), other, truncated)


# ---------------------------------------------------------------------------------------------
# columns and frames
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ColumnSummary:
    """Everything modelyard knows about one column of a frame (or of merged partitions)."""

    name: str
    kind: Kind
    dtype: str
    rows: int
    missing: int
    distinct: int
    distinct_exact: bool = True
    numeric: NumericStats | None = None
    categories: CategoryCounts | None = None

    @property
    def count(self) -> int:
        """Non-missing values."""
        return self.rows - self.missing

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    def merge(self, other: ColumnSummary, options: SummaryOptions) -> ColumnSummary:
        """The summary of both partitions together.

        Raises:
            InvalidInputError: the column has incompatible kinds in the two partitions.
        """
        kind = _merged_kind(self, other)
        numeric = None
        if self.numeric is not None and other.numeric is not None:
            numeric = self.numeric.merge(other.numeric, options)
        categories = None
        if self.categories is not None and other.categories is not None:
            categories = self.categories.merge(other.categories, options, kind)
            if kind == "categorical" and len(categories.counts) > options.max_categories:
                kind = "text"
                categories = _category_counts(
                    categories.counts, categories.other, categories.truncated, options, kind
                )
        distinct, distinct_exact = self.distinct, self.distinct_exact and other.distinct_exact
        if numeric is not None and numeric.distribution.exact:
            distinct, distinct_exact = int(numeric.distribution.values.size), True
        elif categories is not None and not categories.truncated:
            distinct, distinct_exact = len(categories.counts), True
        else:
            distinct = max(self.distinct, other.distinct)
            distinct_exact = False
        return ColumnSummary(
            name=self.name,
            kind=kind,
            dtype=self.dtype if self.dtype == other.dtype else f"{self.dtype}|{other.dtype}",
            rows=self.rows + other.rows,
            missing=self.missing + other.missing,
            distinct=distinct,
            distinct_exact=distinct_exact,
            numeric=numeric,
            categories=categories,
        )

    def to_dict(
        self, *, bins: int = 20, top_k: int = 20, include_state: bool = True
    ) -> dict[str, Any]:
        """JSON-able (no NaN). ``include_state`` keeps what ``from_dict``/merges need."""
        body: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "rows": self.rows,
            "count": self.count,
            "missing": self.missing,
            "missing_rate": self.missing_rate,
            "distinct": self.distinct,
            "distinct_exact": self.distinct_exact,
            "numeric": None,
            "categories": None,
        }
        if self.numeric is not None:
            body["numeric"] = self.numeric.to_dict(bins=bins, include_state=include_state)
            if self.kind == "datetime":
                body["numeric"]["min_iso"] = _iso(self.numeric.min)
                body["numeric"]["max_iso"] = _iso(self.numeric.max)
        if self.categories is not None:
            body["categories"] = self.categories.to_dict(top_k=top_k, include_state=include_state)
        return body

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSummary:
        """Rebuild from ``to_dict(include_state=True)``.

        Raises:
            InvalidInputError: the dict is not a column summary.
        """
        try:
            return cls(
                name=str(data["name"]),
                kind=data["kind"],
                dtype=str(data["dtype"]),
                rows=int(data["rows"]),
                missing=int(data["missing"]),
                distinct=int(data["distinct"]),
                distinct_exact=bool(data["distinct_exact"]),
                numeric=NumericStats.from_dict(data["numeric"]) if data["numeric"] else None,
                categories=(
                    CategoryCounts.from_dict(data["categories"]) if data["categories"] else None
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"not a column summary (missing or bad field: {exc})",
                hint="pass what ColumnSummary.to_dict(include_state=True) returned",
            ) from exc


def _iso(epoch_s: float | None) -> str | None:
    if epoch_s is None:
        return None
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat()


def _merged_kind(a: ColumnSummary, b: ColumnSummary) -> Kind:
    if a.kind == b.kind:
        return a.kind
    if {a.kind, b.kind} == {"categorical", "text"}:
        return "text"
    raise InvalidInputError(
        f"column {a.name!r} is {a.kind} in one partition and {b.kind} in another",
        hint="give the column one type in every partition (or pass kinds= to summarize)",
    )


@dataclass(frozen=True, eq=False)
class FrameSummary:
    """Per-column summaries of a frame, in column order."""

    rows: int
    columns: dict[str, ColumnSummary]
    options: SummaryOptions = field(default_factory=SummaryOptions)

    def merge(self, other: FrameSummary) -> FrameSummary:
        """The summary of both frames stacked.

        Raises:
            InvalidInputError: the frames have different columns or incompatible kinds.
        """
        if list(self.columns) != list(other.columns):
            missing = [c for c in self.columns if c not in other.columns]
            extra = [c for c in other.columns if c not in self.columns]
            raise InvalidInputError(
                "cannot merge summaries of frames with different columns "
                f"(only in the first: {missing or 'none'}; only in the second: {extra or 'none'};"
                " or a different order)",
                hint="summarize partitions of one table (same columns, same order)",
            )
        if self.options != other.options:
            raise InvalidInputError(
                f"cannot merge summaries made with different options "
                f"({self.options} vs {other.options})",
                hint="summarize every partition with the same SummaryOptions",
            )
        return FrameSummary(
            rows=self.rows + other.rows,
            columns={
                name: col.merge(other.columns[name], self.options)
                for name, col in self.columns.items()
            },
            options=self.options,
        )

    def to_dict(
        self, *, bins: int = 20, top_k: int = 20, include_state: bool = True
    ) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "options": self.options.to_dict(),
            "columns": [
                c.to_dict(bins=bins, top_k=top_k, include_state=include_state)
                for c in self.columns.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameSummary:
        """Rebuild from ``to_dict(include_state=True)``.

        Raises:
            InvalidInputError: the dict is not a frame summary.
        """
        try:
            cols = [ColumnSummary.from_dict(c) for c in data["columns"]]
            return cls(
                rows=int(data["rows"]),
                columns={c.name: c for c in cols},
                options=SummaryOptions(**data["options"]),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInputError(
                f"not a frame summary (missing or bad field: {exc})",
                hint="pass what FrameSummary.to_dict(include_state=True) returned",
            ) from exc


def merge_summaries(parts: Iterable[FrameSummary]) -> FrameSummary:
    """Combine summaries of partitions into the summary of the whole.

    Raises:
        InvalidInputError: no parts, or parts with different columns / options / kinds.
    """
    result: FrameSummary | None = None
    for part in parts:
        result = part if result is None else result.merge(part)
    if result is None:
        raise InvalidInputError("merge_summaries needs at least one summary")
    return result


# ---------------------------------------------------------------------------------------------
# the pass over the frame
# ---------------------------------------------------------------------------------------------


def _base_kind(dtype: pl.DataType) -> Kind:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if dtype.is_temporal() and dtype in (pl.Date, pl.Datetime):
        return "datetime"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype in (pl.String, pl.Categorical, pl.Enum, pl.Null) or isinstance(
        dtype, pl.Categorical | pl.Enum
    ):
        return "categorical"
    return "other"


def _prepared(name: str, dtype: pl.DataType, kind: Kind) -> pl.Expr:
    """The column as the pass reads it: floats (missing as null) or strings."""
    col = pl.col(name)
    base = _base_kind(dtype)
    if dtype == pl.Null:  # an all-missing column has no type: any kind fits
        return col.cast(pl.Float64 if kind in ("numeric", "datetime") else pl.String)
    if kind == "numeric":
        if base != "numeric":
            raise InvalidInputError(
                f"column {name!r} has type {dtype}, which cannot be summarised as numeric",
                hint="cast it to a number first, or summarise it as categorical",
            )
        as_float = col.cast(pl.Float64)
        if dtype.is_float() or dtype.is_decimal():
            return pl.when(as_float.is_finite()).then(as_float).otherwise(None)
        return as_float
    if kind == "datetime":
        if base != "datetime":
            raise InvalidInputError(
                f"column {name!r} has type {dtype}, which is not a date or datetime",
                hint="parse it to a date first (str.to_datetime), or summarise it as text",
            )
        as_dt = col.cast(pl.Datetime("us")) if dtype == pl.Date else col
        return as_dt.dt.epoch("us").cast(pl.Float64) / 1e6
    if kind in ("categorical", "text", "boolean"):
        if base == "other":
            raise InvalidInputError(
                f"column {name!r} has type {dtype}, which has no categories",
                hint="summarise nested or binary columns as kind 'other'",
            )
        if isinstance(dtype, pl.Categorical | pl.Enum) or dtype in (pl.Categorical, pl.Enum):
            return col  # counted on its small integer codes; labels come back as strings
        return col.cast(pl.String)
    return col


def summarize(
    data: pl.DataFrame | pl.LazyFrame,
    *,
    kinds: Mapping[str, Kind] | None = None,
    columns: Sequence[str] | None = None,
    options: SummaryOptions | None = None,
) -> FrameSummary:
    """Summarise every column (or ``columns``) in one parallel Polars pass.

    Args:
        data: the frame; a LazyFrame is collected once.
        kinds: overrides the kind per column (``numeric``, ``categorical``, ``boolean``,
            ``datetime``, ``text``, ``other``).
        columns: the columns to summarise (default all, in frame order).
        options: limits; see ``SummaryOptions``.

    Raises:
        InvalidInputError: an unknown column or kind, or a kind the column's type cannot have.
    """
    options = options or SummaryOptions()
    kinds = dict(kinds or {})
    frame = data.collect() if isinstance(data, pl.LazyFrame) else data
    if not isinstance(frame, pl.DataFrame):
        raise InvalidInputError(
            f"summarize needs a Polars DataFrame or LazyFrame, got {type(data).__name__}"
        )
    schema = frame.schema
    names = list(columns) if columns is not None else list(schema)
    unknown = [c for c in [*names, *kinds] if c not in schema]
    if unknown:
        raise InvalidInputError(
            f"unknown column(s) {sorted(set(unknown))}; the frame has {list(schema)}"
        )
    for name, kind in kinds.items():
        if kind not in KINDS:
            raise InvalidInputError(
                f"unknown kind {kind!r} for column {name!r}; use one of {KINDS}"
            )

    plan: dict[str, Kind] = {}
    exprs: list[pl.Expr] = []
    for i, name in enumerate(names):
        dtype = schema[name]
        kind = kinds.get(name) or _base_kind(dtype)
        plan[name] = kind
        prepared = _prepared(name, dtype, kind)
        exprs.append(prepared.null_count().alias(f"{i}:missing"))
        if kind == "other":
            exprs.append(prepared.drop_nulls().n_unique().alias(f"{i}:distinct"))
            continue
        exprs.append(prepared.value_counts().implode().alias(f"{i}:vc"))
        if kind in ("numeric", "datetime"):
            exprs += [
                prepared.mean().alias(f"{i}:mean"),
                prepared.var(ddof=0).alias(f"{i}:var"),
                prepared.min().alias(f"{i}:min"),
                prepared.max().alias(f"{i}:max"),
            ]
    result = frame.select(exprs) if exprs else pl.DataFrame()
    rows = frame.height
    out: dict[str, ColumnSummary] = {}
    for i, name in enumerate(names):
        out[name] = _column_from_pass(result, i, name, str(schema[name]), plan[name], rows, options)
    return FrameSummary(rows=rows, columns=out, options=options)


def _column_from_pass(
    result: pl.DataFrame,
    i: int,
    name: str,
    dtype: str,
    kind: Kind,
    rows: int,
    options: SummaryOptions,
) -> ColumnSummary:
    missing = int(result[f"{i}:missing"][0])
    if kind == "other":
        return ColumnSummary(name, kind, dtype, rows, missing, int(result[f"{i}:distinct"][0]))
    vc = result[f"{i}:vc"].explode().struct.unnest()
    vc = vc.filter(pl.col(vc.columns[0]).is_not_null())
    values, counts = vc.get_column(vc.columns[0]), vc.get_column("count")
    distinct = vc.height
    if kind in ("numeric", "datetime"):
        count = rows - missing
        mean = result[f"{i}:mean"][0]
        var = result[f"{i}:var"][0]
        stats = NumericStats(
            count=count,
            mean=float(mean) if count else None,
            m2=float(var) * count if count and var is not None else 0.0,
            min=float(result[f"{i}:min"][0]) if count else None,
            max=float(result[f"{i}:max"][0]) if count else None,
            distribution=Distribution.from_counts(
                values.to_numpy(), counts.to_numpy(), options, exact=True
            ),
        )
        return ColumnSummary(name, kind, dtype, rows, missing, distinct, True, numeric=stats)
    count = rows - missing
    if kind == "categorical" and (
        distinct > options.max_categories
        or (distinct > options.text_min_distinct and distinct > options.text_unique_ratio * count)
    ):
        kind = "text"  # free text or identifiers: their values are not categories
    truncated = False
    other = 0
    if kind == "text" and distinct > options.text_top_k:
        ordered = vc.sort(["count", vc.columns[0]], descending=[True, False])
        other = int(ordered.get_column("count").slice(options.text_top_k).sum())
        vc = ordered.head(options.text_top_k)
        values, counts = vc.get_column(vc.columns[0]), vc.get_column("count")
        truncated = True
    cats = _category_counts(
        dict(zip(values.to_list(), counts.to_list(), strict=True)), other, truncated, options, kind
    )
    return ColumnSummary(name, kind, dtype, rows, missing, distinct, True, categories=cats)
