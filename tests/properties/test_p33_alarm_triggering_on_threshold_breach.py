"""Property 33: an alarm goes to ALARM exactly when its rule is breached for the configured
periods (M of N), and back to OK when it no longer is."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.alerts.model import AlarmDefinition, MetricDatum
from modelyard.alerts.rules import breaches
from tests.properties.quality_support import Clock, monitor_stack

PERIOD = 60


@settings(max_examples=50, deadline=None)
@given(
    st.data(),
    st.integers(1, 4),
    st.sampled_from(
        [
            "GreaterThanThreshold",
            "GreaterThanOrEqualToThreshold",
            "LessThanThreshold",
            "LessThanOrEqualToThreshold",
        ]
    ),
    st.sampled_from(["breaching", "notBreaching", "missing"]),
    st.sampled_from(["Maximum", "Minimum", "Average", "Sum", "SampleCount"]),
)
def test_p33_alarm_triggering_on_threshold_breach(
    data: st.DataObject, n: int, comparison: str, treat: str, statistic: str
) -> None:
    m = data.draw(st.integers(1, n))
    threshold = data.draw(st.integers(0, 6)).__float__()
    # per period: None (no data) or the values published in it
    periods = data.draw(
        st.lists(
            st.none() | st.lists(st.integers(0, 6), min_size=1, max_size=3),
            min_size=1,
            max_size=10,
        )
    )
    if treat == "missing":  # the unambiguous case of property 33: no gaps
        periods = [p if p is not None else [3] for p in periods]
    clock = Clock()
    stack = monitor_stack(clock)
    stack.alarms.create(
        AlarmDefinition(
            name="a",
            namespace="ns",
            metric_name="score",
            threshold=threshold,
            comparison=comparison,  # type: ignore[arg-type]
            statistic=statistic,  # type: ignore[arg-type]
            period_s=PERIOD,
            evaluation_periods=n,
            datapoints_to_alarm=m,
            treat_missing_data=treat,  # type: ignore[arg-type]
        )
    )
    start = clock.now
    flags: list[bool | None] = []
    states = []
    for i, values in enumerate(periods):
        at = start + timedelta(seconds=PERIOD * i + 1)
        clock.now = at
        if values is not None:
            stack.metrics.publish([MetricDatum("ns", "score", float(v), at) for v in values])
            stat = {
                "Maximum": max(values),
                "Minimum": min(values),
                "Average": sum(values) / len(values),
                "Sum": sum(values),
                "SampleCount": len(values),
            }[statistic]
            flags.append(breaches(float(stat), comparison, threshold))  # type: ignore[arg-type]
        else:
            flags.append(None)
        stack.alarms.evaluate("a", now=at)
        window = ([None] * n + flags)[-n:]
        if treat == "breaching":
            count = sum(1 for f in window if f is None or f)
        else:
            count = sum(1 for f in window if f)
        expected = "ALARM" if count >= m else "OK"
        if treat == "missing" and i + 1 < n:
            # the first periods of the series: the window reaches back before any data
            present = [f for f in window if f is not None]
            if count < m and len(present) < m and all(present):
                expected = "ALARM"
        state = stack.alarms.get("a")["state"]
        assert state == expected, (window, m, n, treat)
        states.append(state)
    # the history holds exactly the changes, newest first
    changes = []
    previous = "INSUFFICIENT_DATA"
    for s in states:
        if s != previous:
            changes.append((previous, s))
            previous = s
    history = stack.alarms.history("a", limit=None)
    assert [(t.old_state, t.new_state) for t in reversed(history)] == changes
