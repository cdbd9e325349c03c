"""Hypothesis strategies and independent reference computations for the monitoring tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.alerts.metrics import RecordMetricsSink
from modelyard.alerts.service import AlarmService, MetricsService
from modelyard.quality.service import MonitorService
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore

CATEGORIES = ["a", "b", "c", "d", "e", "f"]


@st.composite
def frames(draw: st.DrawFn, min_rows: int = 0, max_rows: int = 60) -> pl.DataFrame:
    """A frame with an int column, a float column (with NaN), a string and a bool column."""
    n = draw(st.integers(min_rows, max_rows))
    ints = draw(st.lists(st.one_of(st.none(), st.integers(-20, 20)), min_size=n, max_size=n))
    floats = draw(
        st.lists(
            st.one_of(
                st.none(),
                st.just(math.nan),
                st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32),
            ),
            min_size=n,
            max_size=n,
        )
    )
    cats = draw(st.lists(st.one_of(st.none(), st.sampled_from(CATEGORIES)), min_size=n, max_size=n))
    bools = draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n))
    return pl.DataFrame(
        {"i": ints, "x": floats, "c": cats, "b": bools},
        schema={"i": pl.Int64, "x": pl.Float64, "c": pl.String, "b": pl.Boolean},
    )


def reference_stats(values: list[Any]) -> dict[str, Any]:
    """Independent statistics of one column with plain Python + numpy."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    out: dict[str, Any] = {
        "rows": len(values),
        "missing": len(values) - len(present),
        "distinct": len(set(present)),
    }
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        arr = np.asarray(present, dtype=np.float64)
        out.update(
            mean=float(arr.mean()),
            std=float(arr.std(ddof=1)) if arr.size > 1 else None,
            min=float(arr.min()),
            max=float(arr.max()),
            quantiles={q: float(np.quantile(arr, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
        )
    else:
        counts: dict[str, int] = {}
        for v in present:
            key = str(v).lower() if isinstance(v, bool) else str(v)
            counts[key] = counts.get(key, 0) + 1
        out["counts"] = counts
    return out


class Clock:
    """A controllable UTC clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class MonitorStack:
    records: MemoryRecordStore
    blobs: MemoryBlobStore
    clock: Clock
    sink: RecordMetricsSink
    metrics: MetricsService
    alarms: AlarmService
    monitor: MonitorService


def monitor_stack(clock: Clock | None = None, **alarm_kwargs: Any) -> MonitorStack:
    """A monitor service over in-memory stores (allow-all policy, still audited)."""
    records, blobs = MemoryRecordStore(), MemoryBlobStore()
    clock = clock or Clock()
    guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("tester"))
    sink = RecordMetricsSink(records)
    metrics = MetricsService(guard, sink)
    alarms = AlarmService(records, guard, sink, clock=clock, **alarm_kwargs)
    monitor = MonitorService(records, ContentStore(blobs), guard, metrics, alarms, clock=clock)
    return MonitorStack(records, blobs, clock, sink, metrics, alarms, monitor)
