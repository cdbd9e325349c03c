"""Property 11: every param/metric/tag/artifact logged reads back exactly."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore
from modelyard.tracking import TrackingService

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_./:-]{0,12}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
numbers = st.floats(allow_nan=True, allow_infinity=True)
points = st.lists(
    st.tuples(st.sampled_from(["loss", "auc", "val/loss"]), numbers, st.integers(0, 50)),
    max_size=30,
)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def service(kind: str, folder: Path) -> TrackingService:
    records: RecordStore = (
        MemoryRecordStore() if kind == "memory" else SqliteRecordStore(folder / "r.db")
    )
    guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("p"))
    return TrackingService(records, ContentStore(MemoryBlobStore()), guard, flush_interval_s=0)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(
    params=st.dictionaries(keys, values, max_size=6),
    tags=st.dictionaries(keys, values, max_size=4),
    logged=points,
    artifacts=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_.-]{0,10}", fullmatch=True).filter(lambda n: ".." not in n),
        st.binary(max_size=64),
        max_size=3,
    ),
)
@settings(max_examples=25, deadline=None)
def test_p11_experiment_tracking_completeness(
    kind: str,
    params: dict[str, str],
    tags: dict[str, str],
    logged: list[tuple[str, float, int]],
    artifacts: dict[str, bytes],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tracking = service(kind, folder)
        tracking.create_experiment("e")
        with tracking.start_run("e", params=params) as run:
            run.set_tags(tags)
            for key, value, step in logged:
                run.log_metric(key, value, step=step)
            for name, data in artifacts.items():
                path = folder / name
                path.write_bytes(data)
                run.log_artifact(path)
        got = tracking.get_run(run.run_id)
        assert dict(got.params) == params
        assert dict(got.tags) == tags
        for name, data in artifacts.items():
            assert tracking.get_artifact(run.run_id, name) == data
        for key in {k for k, _, _ in logged}:
            expected = sorted(
                [(step, i, value) for i, (k, value, step) in enumerate(logged) if k == key]
            )
            history = tracking.metric_history(run.run_id, key)
            assert [p.step for p in history] == [s for s, _, _ in expected]
            assert all(same(p.value, v) for p, (_, _, v) in zip(history, expected, strict=True))
            assert same(got.metrics[key], expected[-1][2])  # latest = highest step, last logged
        assert set(got.metrics) == {k for k, _, _ in logged}
