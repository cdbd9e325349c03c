"""Property 13: every version has all metadata fields of capability 1."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.registry import RegistryService
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore
from modelyard.tracking import TrackingService

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(
    framework=st.sampled_from(["lightgbm", "sklearn", "xgboost", "custom"]),
    params=st.dictionaries(keys, st.integers() | st.text(max_size=8), max_size=5),
    metrics=st.dictionaries(keys, st.floats(allow_nan=True), max_size=5),
    schema=st.lists(
        st.tuples(keys, st.sampled_from(["int64", "str", "float64"])),
        unique_by=lambda t: t[0],
        max_size=6,
    ),
    datasets=st.lists(st.tuples(names, st.integers(1, 99)), unique=True, max_size=3),
    with_run=st.booleans(),
    commit=st.one_of(st.none(), st.from_regex(r"[0-9a-f]{40}", fullmatch=True)),
    artifacts=st.dictionaries(names, st.binary(min_size=1, max_size=50), min_size=1, max_size=3),
)
@settings(max_examples=25, deadline=None)
def test_p13_model_metadata_completeness(
    kind: str,
    framework: str,
    params: dict[str, object],
    metrics: dict[str, float],
    schema: list[tuple[str, str]],
    datasets: list[tuple[str, int]],
    with_run: bool,
    commit: str | None,
    artifacts: dict[str, bytes],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records: RecordStore = (
            MemoryRecordStore() if kind == "memory" else SqliteRecordStore(Path(tmp) / "r.db")
        )
        guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("bob"))
        content = ContentStore(MemoryBlobStore())
        tracking = TrackingService(records, content, guard)
        registry = RegistryService(
            records, content, guard, runs=tracking, code_version=lambda: commit
        )
        run_id = None
        if with_run:
            tracking.create_experiment("e")
            run_id = tracking.record_run("e").run_id
        registry.register(
            "m",
            artifacts,
            framework=framework,
            params=params,
            metrics=metrics,
            input_schema=schema,
            datasets=[f"{n}@{v}" for n, v in datasets],
            run_id=run_id,
        )
        mv = registry.get_version("m", 1)  # read back from the store
        assert mv.framework == framework
        assert dict(mv.params) == {k: str(v) for k, v in params.items()}
        assert set(mv.metrics) == set(metrics)
        for k, v in metrics.items():
            assert (math.isnan(v) and math.isnan(mv.metrics[k])) or mv.metrics[k] == v
        assert list(mv.input_schema) == schema
        assert [(d.name, d.version) for d in mv.datasets] == datasets
        assert mv.run_id == run_id
        assert mv.code_version == commit
        assert mv.created_by == "bob"
        assert mv.created_at.tzinfo is not None
        assert mv.status.value == "pending"
        assert {a.name: (a.size_bytes, len(a.sha256)) for a in mv.artifacts} == {
            n: (len(b), 64) for n, b in artifacts.items()
        }
        as_json = mv.to_dict()
        for field in (
            "framework",
            "params",
            "metrics",
            "input_schema",
            "datasets",
            "run_id",
            "code_version",
            "created_by",
            "created_at",
            "status",
            "artifacts",
        ):
            assert field in as_json
