"""Property 7: the configured actions run iff the drift score crosses its threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.alerts.model import AlarmDefinition, Transition
from modelyard.quality.service import NAMESPACE
from tests.properties.quality_support import monitor_stack

RNG = np.random.default_rng(7)
REF = pl.DataFrame(
    {
        "x": RNG.normal(0, 1, 400),
        "y": RNG.normal(10, 2, 400),
        "c": RNG.choice(["a", "b", "c"], 400).tolist(),
        "d": RNG.choice(["u", "v"], 400).tolist(),
    }
)


def batch(drifted: int) -> pl.DataFrame:
    """The reference itself with the first ``drifted`` columns moved far away."""
    out = REF
    moves = [
        pl.col("x") + 50,
        pl.col("y") * 10,
        pl.lit("zz").alias("c"),
        pl.lit("new").alias("d"),
    ]
    return out.with_columns(moves[:drifted]) if drifted else out


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=6),
    st.sampled_from([0.25, 0.5, 0.75, 1.0]),
)
def test_p07_drift_threshold_actions(levels: list[int], threshold: float) -> None:
    calls: list[Transition] = []

    def hook(alarm: AlarmDefinition, transition: Transition) -> Any:
        calls.append(transition)

    stack = monitor_stack(retrain_hook=hook)
    stack.monitor.create_baseline(REF, model="m", version=1)
    stack.alarms.create(
        AlarmDefinition(
            name="drift",
            namespace=NAMESPACE,
            metric_name="DriftScore",
            dimensions={"model": "m", "version": "1"},
            threshold=threshold,
            comparison="GreaterThanOrEqualToThreshold",
            period_s=60,
            evaluation_periods=1,
            actions={"ALARM": ("retrain", "log")},
        )
    )
    expected_calls = 0
    above_before = False
    for level in levels:
        stack.clock.advance(60)
        report = stack.monitor.check(batch(level), model="m", version=1)
        assert report.drift_score == level / 4
        above = report.drift_score >= threshold
        if above and not above_before:
            expected_calls += 1
        above_before = above
        assert stack.alarms.get("drift")["state"] == ("ALARM" if above else "OK")
    assert len(calls) == expected_calls
    history = stack.alarms.history("drift", limit=None)
    alarm_entries = [t for t in history if t.new_state == "ALARM"]
    assert len(alarm_entries) == expected_calls
    for t in alarm_entries:
        assert [a["target"] for a in t.actions] == ["retrain", "log"]
        assert all(a["ok"] for a in t.actions)
