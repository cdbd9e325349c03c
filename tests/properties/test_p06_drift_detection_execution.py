"""Property 6 (monitor side): every checked batch is compared with its model's baseline and
gets exactly one stored drift report, whatever the batch looks like."""

from __future__ import annotations

import json

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.properties.quality_support import frames, monitor_stack


@settings(max_examples=25, deadline=None)
@given(frames(min_rows=1), st.lists(frames(min_rows=0, max_rows=30), min_size=1, max_size=4))
def test_p06_drift_detection_execution(ref: pl.DataFrame, batches: list[pl.DataFrame]) -> None:
    stack = monitor_stack()
    info = stack.monitor.create_baseline(ref, model="m", version=3)
    ids = []
    for i, batch in enumerate(batches):
        stack.clock.advance(1)
        report = stack.monitor.check(batch, model="m", version=3, batch_id=f"b{i}")
        assert report.baseline_id == info.id
        assert report.current_rows == batch.height
        assert {f.column for f in report.features} == set(ref.columns)
        for f in report.features:  # never NaN as a score: a number or None with a reason
            assert f.tested == (f.score is not None)
            assert f.tested or f.reason
        json.dumps(report.to_dict(), allow_nan=False)
        ids.append(report.id)
        assert [r.id for r in stack.monitor.list_reports(model="m", batch_id=f"b{i}")] == [
            report.id
        ]
    listed = [r.id for r in stack.monitor.list_reports(model="m", limit=None)]
    assert listed == list(reversed(ids))
