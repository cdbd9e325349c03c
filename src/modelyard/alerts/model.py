"""Metrics and alarms, CloudWatch-shaped: datums, datapoints, alarm definitions and states."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from modelyard.errors import InvalidInputError
from modelyard.storage.keys import validate_name

__all__ = [
    "COMPARISONS",
    "STATES",
    "STATISTICS",
    "TREAT_MISSING",
    "AlarmDefinition",
    "AlarmState",
    "Comparison",
    "Datapoint",
    "MetricDatum",
    "State",
    "Statistic",
    "Transition",
    "TreatMissing",
]

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
STATES: tuple[State, ...] = ("OK", "ALARM", "INSUFFICIENT_DATA")
Statistic = Literal["Average", "Sum", "Minimum", "Maximum", "SampleCount"]
STATISTICS: tuple[Statistic, ...] = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
COMPARISONS: tuple[Comparison, ...] = (
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
TreatMissing = Literal["missing", "ignore", "breaching", "notBreaching"]
TREAT_MISSING: tuple[TreatMissing, ...] = ("missing", "ignore", "breaching", "notBreaching")
UNITS = (
    "None", "Count", "Percent", "Seconds", "Milliseconds", "Bytes", "Count/Second",
)  # fmt: skip


def _check_text(what: str, value: str, limit: int = 255) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
        raise InvalidInputError(
            f"{what} must be 1-{limit} printable characters, got {value!r}",
        )
    return value


@dataclass(frozen=True)
class MetricDatum:
    """One observation (CloudWatch ``PutMetricData`` shape)."""

    namespace: str
    metric_name: str
    value: float
    timestamp: datetime
    unit: str = "None"
    dimensions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_text("namespace", self.namespace)
        _check_text("metric name", self.metric_name)
        if not isinstance(self.value, int | float) or not math.isfinite(self.value):
            raise InvalidInputError(
                f"metric {self.metric_name!r} value must be a finite number, got {self.value!r}"
            )
        if self.timestamp.tzinfo is None:
            raise InvalidInputError("metric timestamps must be timezone-aware (UTC)")
        if len(self.dimensions) > 30:
            raise InvalidInputError("a metric has at most 30 dimensions")
        for k, v in self.dimensions.items():
            _check_text("dimension name", k)
            _check_text(f"dimension {k!r} value", v, 1024)

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "metric_name": self.metric_name,
            "value": self.value,
            "timestamp": self.timestamp.isoformat(),
            "unit": self.unit,
            "dimensions": dict(self.dimensions),
        }


@dataclass(frozen=True)
class Datapoint:
    """Statistics of one period (CloudWatch ``GetMetricStatistics`` shape)."""

    timestamp: datetime
    sample_count: int
    sum: float
    minimum: float
    maximum: float
    unit: str = "None"

    @property
    def average(self) -> float:
        return self.sum / self.sample_count

    def statistic(self, name: Statistic) -> float:
        return {
            "Average": self.average,
            "Sum": self.sum,
            "Minimum": self.minimum,
            "Maximum": self.maximum,
            "SampleCount": float(self.sample_count),
        }[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp.isoformat(),
            "SampleCount": self.sample_count,
            "Sum": self.sum,
            "Average": self.average,
            "Minimum": self.minimum,
            "Maximum": self.maximum,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class AlarmDefinition:
    """A metric alarm with CloudWatch semantics (see ``modelyard.alerts.rules``).

    ``actions`` maps a target state to what runs when the alarm enters it: ``"log"``,
    ``"webhook:<url>"`` or ``"retrain"`` (the retraining hook).
    """

    name: str
    namespace: str
    metric_name: str
    threshold: float
    comparison: Comparison = "GreaterThanOrEqualToThreshold"
    statistic: Statistic = "Maximum"
    period_s: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    treat_missing_data: TreatMissing = "missing"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        validate_name("alarm", self.name)
        _check_text("namespace", self.namespace)
        _check_text("metric name", self.metric_name)
        if self.statistic not in STATISTICS:
            raise InvalidInputError(
                f"unknown statistic {self.statistic!r}; use one of {', '.join(STATISTICS)}"
            )
        if self.comparison not in COMPARISONS:
            raise InvalidInputError(
                f"unknown comparison {self.comparison!r}; use one of {', '.join(COMPARISONS)}"
            )
        if self.treat_missing_data not in TREAT_MISSING:
            raise InvalidInputError(
                f"unknown missing-data treatment {self.treat_missing_data!r}; "
                f"use one of {', '.join(TREAT_MISSING)}"
            )
        if not isinstance(self.threshold, int | float) or not math.isfinite(self.threshold):
            raise InvalidInputError(f"threshold must be a finite number, got {self.threshold!r}")
        if self.period_s < 1:
            raise InvalidInputError(f"period must be at least 1 second, got {self.period_s}")
        if self.evaluation_periods < 1:
            raise InvalidInputError(
                f"evaluation periods must be at least 1, got {self.evaluation_periods}"
            )
        m = self.datapoints_to_alarm
        if m is not None and not 1 <= m <= self.evaluation_periods:
            raise InvalidInputError(
                f"datapoints to alarm must be within 1..{self.evaluation_periods} "
                f"(the evaluation periods), got {m}"
            )
        for state, targets in self.actions.items():
            if state not in STATES:
                raise InvalidInputError(
                    f"actions are keyed by state ({', '.join(STATES)}), got {state!r}"
                )
            for target in targets:
                if not (
                    target in ("log", "retrain")
                    or target.startswith(("webhook:http://", "webhook:https://"))
                ):
                    raise InvalidInputError(
                        f"unknown alarm action {target!r}",
                        hint="use 'log', 'retrain' or 'webhook:https://host/path'",
                    )

    @property
    def m_of_n(self) -> tuple[int, int]:
        n = self.evaluation_periods
        return (self.datapoints_to_alarm or n), n

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "metric_name": self.metric_name,
            "dimensions": dict(self.dimensions),
            "statistic": self.statistic,
            "period_s": self.period_s,
            "comparison": self.comparison,
            "threshold": self.threshold,
            "evaluation_periods": self.evaluation_periods,
            "datapoints_to_alarm": self.m_of_n[0],
            "treat_missing_data": self.treat_missing_data,
            "actions": {k: list(v) for k, v in self.actions.items()},
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlarmDefinition:
        return cls(
            name=data["name"],
            namespace=data["namespace"],
            metric_name=data["metric_name"],
            dimensions=dict(data.get("dimensions", {})),
            statistic=data.get("statistic", "Maximum"),
            period_s=int(data.get("period_s", 300)),
            comparison=data.get("comparison", "GreaterThanOrEqualToThreshold"),
            threshold=float(data["threshold"]),
            evaluation_periods=int(data.get("evaluation_periods", 1)),
            datapoints_to_alarm=data.get("datapoints_to_alarm"),
            treat_missing_data=data.get("treat_missing_data", "missing"),
            actions={k: tuple(v) for k, v in dict(data.get("actions", {})).items()},
            description=data.get("description", ""),
        )


@dataclass(frozen=True)
class AlarmState:
    """Where an alarm stands now."""

    state: State
    reason: str
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class Transition:
    """One state change of an alarm, with the reason and what its actions did."""

    alarm: str
    time: datetime
    old_state: State
    new_state: State
    reason: str
    actions: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "alarm": self.alarm,
            "time": self.time.isoformat(),
            "old_state": self.old_state,
            "new_state": self.new_state,
            "reason": self.reason,
            "actions": [dict(a) for a in self.actions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        return cls(
            alarm=data["alarm"],
            time=datetime.fromisoformat(data["time"]),
            old_state=data["old_state"],
            new_state=data["new_state"],
            reason=data["reason"],
            actions=tuple(data.get("actions", ())),
        )
