"""Alarm evaluation on hand-worked CloudWatch-style examples (X breaching, 0 not, - missing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelyard.alerts.model import AlarmDefinition, Datapoint, MetricDatum
from modelyard.alerts.rules import aggregate, evaluate, evaluation_window
from modelyard.errors import InvalidInputError

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)  # inside the 12:00 period (60 s periods)


def alarm(n: int, m: int | None = None, treat: str = "missing", **kw: object) -> AlarmDefinition:
    return AlarmDefinition(
        name="a",
        namespace="ns",
        metric_name="score",
        threshold=kw.pop("threshold", 0.5),  # type: ignore[arg-type]
        period_s=60,
        evaluation_periods=n,
        datapoints_to_alarm=m,
        treat_missing_data=treat,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def points(a: AlarmDefinition, pattern: str) -> list[Datapoint]:
    """'X0-X': one character per period of the evaluation window, oldest first."""
    start, _ = evaluation_window(a, NOW)
    out = []
    for i, ch in enumerate(pattern):
        if ch == "-":
            continue
        v = 1.0 if ch == "X" else 0.0
        out.append(Datapoint(start + timedelta(seconds=60 * i), 1, v, v, v))
    return out


@pytest.mark.parametrize(
    ("pattern", "m", "expected"),
    [
        ("XXX", 3, "ALARM"),
        ("X0X", 3, "OK"),
        ("X0X0X", 3, "ALARM"),  # 3 of 5
        ("X0X00", 3, "OK"),  # 2 of 5
        ("0XX", 2, "ALARM"),
        ("X00", 2, "OK"),
    ],
)
def test_m_of_n(pattern: str, m: int, expected: str) -> None:
    a = alarm(len(pattern), m)
    assert evaluate(a, points(a, pattern), NOW, "OK").state == expected


@pytest.mark.parametrize(
    ("pattern", "m", "current", "expected"),
    [
        # missing (default): all missing -> INSUFFICIENT_DATA; partial data is judged as is
        ("---", 3, "OK", {"missing": "INSUFFICIENT_DATA", "ignore": "OK",
                           "breaching": "ALARM", "notBreaching": "OK"}),
        ("---", 3, "ALARM", {"missing": "INSUFFICIENT_DATA", "ignore": "ALARM",
                              "breaching": "ALARM", "notBreaching": "OK"}),
        ("X-X", 3, "OK", {"missing": "ALARM", "ignore": "OK",
                           "breaching": "ALARM", "notBreaching": "OK"}),
        ("0-X", 3, "ALARM", {"missing": "OK", "ignore": "OK",
                              "breaching": "OK", "notBreaching": "OK"}),
        ("X--", 1, "OK", {"missing": "ALARM", "ignore": "ALARM",
                           "breaching": "ALARM", "notBreaching": "ALARM"}),
        ("0--", 2, "ALARM", {"missing": "OK", "ignore": "OK",
                              "breaching": "ALARM", "notBreaching": "OK"}),
        ("X-X-X", 3, "OK", {"missing": "ALARM", "ignore": "ALARM",
                             "breaching": "ALARM", "notBreaching": "ALARM"}),
        ("0-0-X", 2, "ALARM", {"missing": "OK", "ignore": "OK",
                                "breaching": "ALARM", "notBreaching": "OK"}),
    ],
)  # fmt: skip
def test_each_missing_data_treatment(
    pattern: str, m: int, current: str, expected: dict[str, str]
) -> None:
    for treat, state in expected.items():
        a = alarm(len(pattern), m, treat)
        result = evaluate(a, points(a, pattern), NOW, current)  # type: ignore[arg-type]
        assert result.state == state, treat
        assert result.reason


def test_statistics_and_comparisons() -> None:
    datums = [
        MetricDatum("ns", "score", v, NOW - timedelta(seconds=s))
        for v, s in [(0.2, 1), (0.9, 2), (0.4, 3)]
    ]
    start, end = evaluation_window(alarm(1), NOW)
    (p,) = aggregate(datums, 60, start, end)
    assert (p.sample_count, p.minimum, p.maximum) == (3, 0.2, 0.9)
    assert p.average == pytest.approx(0.5)
    assert p.sum == pytest.approx(1.5)
    cases = [
        ("Maximum", "GreaterThanThreshold", 0.9, "OK"),
        ("Maximum", "GreaterThanOrEqualToThreshold", 0.9, "ALARM"),
        ("Minimum", "LessThanThreshold", 0.2, "OK"),
        ("Minimum", "LessThanOrEqualToThreshold", 0.2, "ALARM"),
        ("Average", "GreaterThanOrEqualToThreshold", 0.5, "ALARM"),
        ("Sum", "GreaterThanThreshold", 1.4, "ALARM"),
        ("SampleCount", "LessThanThreshold", 3, "OK"),
    ]
    for statistic, comparison, threshold, expected in cases:
        a = alarm(1, statistic=statistic, comparison=comparison, threshold=threshold)
        assert evaluate(a, [p], NOW).state == expected, (statistic, comparison)


def test_periods_are_aligned_and_the_window_ends_with_now() -> None:
    a = alarm(3)
    start, end = evaluation_window(a, NOW)
    assert start == datetime(2026, 3, 1, 11, 58, tzinfo=UTC)
    assert end == datetime(2026, 3, 1, 12, 1, tzinfo=UTC)
    old = MetricDatum("ns", "score", 1.0, start - timedelta(seconds=1))
    assert aggregate([old], 60, start, end) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"evaluation_periods": 2, "datapoints_to_alarm": 3},
        {"evaluation_periods": 0},
        {"comparison": "Bigger"},
        {"statistic": "p99"},
        {"treat_missing_data": "maybe"},
        {"period_s": 0},
        {"threshold": float("nan")},
        {"actions": {"ALARM": ("email:me",)}},
        {"actions": {"SOMETIMES": ("log",)}},
        {"name": "../etc"},
    ],
)
def test_invalid_definitions_are_refused(bad: dict[str, object]) -> None:
    base: dict[str, object] = {
        "name": "a",
        "namespace": "ns",
        "metric_name": "score",
        "threshold": 1.0,
    }
    with pytest.raises(InvalidInputError):
        AlarmDefinition(**{**base, **bad})  # type: ignore[arg-type]


def test_datum_validation() -> None:
    with pytest.raises(InvalidInputError):
        MetricDatum("ns", "m", float("inf"), NOW)
    with pytest.raises(InvalidInputError):
        MetricDatum("ns", "m", 1.0, NOW.replace(tzinfo=None))
