"""Comparison of two model versions: every metric of both, with differences. Pure: no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from modelyard.registry.model import ModelVersion

__all__ = ["MetricDelta", "ParamDelta", "VersionComparison", "compare_versions"]


@dataclass(frozen=True)
class MetricDelta:
    """One metric of both versions: ``abs_diff = b - a``, ``rel_diff = (b - a) / |a|``.

    A difference is None when either side lacks the metric; ``rel_diff`` is None when ``a``
    is 0. NaN or infinite inputs give the IEEE result (e.g. NaN).
    """

    key: str
    a: float | None
    b: float | None
    abs_diff: float | None
    rel_diff: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "a": self.a,
            "b": self.b,
            "abs_diff": self.abs_diff,
            "rel_diff": self.rel_diff,
        }


@dataclass(frozen=True)
class ParamDelta:
    """One param of both versions (None where a version lacks it)."""

    key: str
    a: str | None
    b: str | None

    @property
    def changed(self) -> bool:
        return self.a != self.b

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "a": self.a, "b": self.b, "changed": self.changed}


@dataclass(frozen=True)
class VersionComparison:
    """Version ``a`` against version ``b``."""

    a: ModelVersion
    b: ModelVersion
    metrics: tuple[MetricDelta, ...]
    params: tuple[ParamDelta, ...]

    @property
    def changed_params(self) -> list[ParamDelta]:
        return [p for p in self.params if p.changed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": str(self.a.ref),
            "b": str(self.b.ref),
            "metrics": [m.to_dict() for m in self.metrics],
            "params": [p.to_dict() for p in self.params],
            "changed_params": [p.key for p in self.changed_params],
            "framework": {"a": self.a.framework, "b": self.b.framework},
            "datasets": {
                "a": [str(d) for d in self.a.datasets],
                "b": [str(d) for d in self.b.datasets],
            },
        }


def _delta(key: str, a: float | None, b: float | None) -> MetricDelta:
    if a is None or b is None:
        return MetricDelta(key, a, b, None, None)
    with_inf = math.isinf(a) and math.isinf(b) and a == b
    diff = 0.0 if with_inf else b - a
    rel = None if a == 0 else diff / abs(a)
    return MetricDelta(key, a, b, diff, rel)


def compare_versions(a: ModelVersion, b: ModelVersion) -> VersionComparison:
    """Every metric of both versions (union of keys, sorted) and every param."""
    metric_keys = sorted(set(a.metrics) | set(b.metrics))
    param_keys = sorted(set(a.params) | set(b.params))
    return VersionComparison(
        a=a,
        b=b,
        metrics=tuple(_delta(k, a.metrics.get(k), b.metrics.get(k)) for k in metric_keys),
        params=tuple(ParamDelta(k, a.params.get(k), b.params.get(k)) for k in param_keys),
    )
