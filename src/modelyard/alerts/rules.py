"""Alarm rules: period statistics and CloudWatch-style evaluation. Pure: no I/O, no clock.

Periods are aligned to multiples of ``period_s`` since the Unix epoch. At time ``now`` the
evaluation range is the ``evaluation_periods`` (N) periods ending with the one that holds
``now``; each period is *breaching* (its statistic compares true against the threshold),
*not breaching*, or *missing* (no datapoint). With ``datapoints_to_alarm`` M (default N):

- ``breaching`` / ``notBreaching``: a missing period counts as breaching / not breaching;
  ALARM iff at least M of the N periods breach, else OK.
- ``missing`` (default): all N missing -> INSUFFICIENT_DATA. Otherwise only present periods
  count: ALARM iff at least M breach. When fewer than M periods are present, ALARM if every
  present period breaches, else OK (CloudWatch evaluates partial data the same way).
- ``ignore``: like ``missing``, except that all-missing, or too few present periods to make M
  where all of them breach, keeps the current state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelyard.alerts.model import (
    AlarmDefinition,
    Comparison,
    Datapoint,
    MetricDatum,
    State,
)

__all__ = ["Evaluation", "aggregate", "breaches", "evaluate", "evaluation_window"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(ts: datetime, period_s: int) -> datetime:
    seconds = (ts - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=(seconds // period_s) * period_s)


def aggregate(
    datums: Iterable[MetricDatum], period_s: int, start: datetime, end: datetime
) -> list[Datapoint]:
    """Per-period statistics of the datums with ``start <= timestamp < end``, oldest first."""
    buckets: dict[datetime, list[MetricDatum]] = {}
    for d in datums:
        if start <= d.timestamp < end:
            buckets.setdefault(period_start(d.timestamp, period_s), []).append(d)
    points = []
    for ts in sorted(buckets):
        values = [d.value for d in buckets[ts]]
        points.append(
            Datapoint(
                timestamp=ts,
                sample_count=len(values),
                sum=float(sum(values)),
                minimum=float(min(values)),
                maximum=float(max(values)),
                unit=buckets[ts][0].unit,
            )
        )
    return points


def evaluation_window(alarm: AlarmDefinition, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the N periods ending with the one that holds ``now``."""
    last = period_start(now, alarm.period_s)
    end = last + timedelta(seconds=alarm.period_s)
    start = end - timedelta(seconds=alarm.period_s * alarm.evaluation_periods)
    return start, end


def breaches(value: float, comparison: Comparison, threshold: float) -> bool:
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    return value <= threshold


@dataclass(frozen=True)
class Evaluation:
    """The state the alarm should be in, why, and the per-period values it saw."""

    state: State
    reason: str
    values: tuple[float | None, ...]


def evaluate(
    alarm: AlarmDefinition,
    datapoints: Sequence[Datapoint],
    now: datetime,
    current: State = "INSUFFICIENT_DATA",
) -> Evaluation:
    """Evaluate ``alarm`` at ``now`` on its metric's per-period ``datapoints``."""
    start, _ = evaluation_window(alarm, now)
    m, n = alarm.m_of_n
    by_period = {p.timestamp: p for p in datapoints}
    values: list[float | None] = []
    for i in range(n):
        ts = start + timedelta(seconds=alarm.period_s * i)
        point = by_period.get(ts)
        values.append(None if point is None else point.statistic(alarm.statistic))
    present = [v for v in values if v is not None]
    breaching = sum(1 for v in present if breaches(v, alarm.comparison, alarm.threshold))
    missing = n - len(present)
    shown = "[" + ", ".join("-" if v is None else f"{v:g}" for v in values) + "]"
    rule = f"{alarm.statistic} {_symbol(alarm.comparison)} {alarm.threshold:g}"
    treat = alarm.treat_missing_data

    if treat in ("breaching", "notBreaching"):
        count = breaching + (missing if treat == "breaching" else 0)
        state: State = "ALARM" if count >= m else "OK"
        why = (
            f"{count} of {n} period(s) breached {rule} (missing treated as {treat}; "
            f"{m} needed): {shown}"
        )
        return Evaluation(state, why, tuple(values))
    if not present:
        if treat == "ignore":
            return Evaluation(current, f"no datapoints in {n} period(s); state kept", tuple(values))
        return Evaluation(
            "INSUFFICIENT_DATA", f"no datapoints in {n} period(s): {shown}", tuple(values)
        )
    if breaching >= m:
        return Evaluation(
            "ALARM",
            f"{breaching} of {n} period(s) breached {rule} ({m} needed): {shown}",
            tuple(values),
        )
    if len(present) < m and breaching == len(present):
        if treat == "ignore":
            return Evaluation(
                current,
                f"only {len(present)} datapoint(s), all breaching {rule}; state kept: {shown}",
                tuple(values),
            )
        return Evaluation(
            "ALARM",
            f"only {len(present)} datapoint(s) and all breach {rule}: {shown}",
            tuple(values),
        )
    return Evaluation(
        "OK", f"{breaching} of {n} period(s) breached {rule} ({m} needed): {shown}", tuple(values)
    )


def _symbol(comparison: Comparison) -> str:
    return {
        "GreaterThanThreshold": ">",
        "GreaterThanOrEqualToThreshold": ">=",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }[comparison]
