"""Property 34: every monitoring run stores a report, retrievable by model, batch and time."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.properties.quality_support import monitor_stack

REF = pl.DataFrame({"x": np.arange(50, dtype=np.float64), "c": ["a", "b"] * 25})


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["m1", "m2"]), st.sampled_from(["b1", "b2", "b3"]), st.integers(1, 500)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_p34_monitoring_report_storage(runs: list[tuple[str, str, int]]) -> None:
    stack = monitor_stack()
    for model in ("m1", "m2"):
        stack.monitor.create_baseline(REF, model=model, version=1)
    start = stack.clock.now
    stored = []
    for model, batch, gap in runs:
        stack.clock.advance(gap)
        cur = REF.with_columns(pl.col("x") + gap / 100)
        report = stack.monitor.check(cur, model=model, batch_id=batch)
        stored.append((model, batch, stack.clock.now, report))
        again = stack.monitor.get_report(report.id or "")
        assert again.to_dict() == report.to_dict()
        assert "<svg" in stack.monitor.get_report_html(report.id or "")
    for model in ("m1", "m2"):
        mine = [s for s in stored if s[0] == model]
        listed = stack.monitor.list_reports(model=model, limit=None)
        assert [r.id for r in listed] == [s[3].id for s in reversed(mine)]
        for batch in ("b1", "b2", "b3"):
            by_batch = stack.monitor.list_reports(model=model, batch_id=batch, limit=None)
            assert {r.id for r in by_batch} == {s[3].id for s in mine if s[1] == batch}
    mid = start + timedelta(seconds=sum(g for _, _, g in runs) / 2)
    later = stack.monitor.list_reports(since=mid, limit=None)
    assert {r.id for r in later} == {s[3].id for s in stored if s[2] >= mid}
    earlier = stack.monitor.list_reports(until=mid, limit=None)
    assert {r.id for r in earlier} == {s[3].id for s in stored if s[2] < mid}
