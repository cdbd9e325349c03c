"""Property 39 (registry half): every model version links to its exact dataset versions (and
run), queryable both ways."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.registry import LineageService, RegistryService
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore
from modelyard.tracking import TrackingService

dataset_refs = st.lists(
    st.tuples(st.sampled_from(["diabetes", "holdout", "labels"]), st.integers(1, 3)),
    unique=True,
    max_size=3,
)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(
    versions=st.lists(
        st.tuples(st.sampled_from(["m", "n"]), dataset_refs, st.booleans()), max_size=8
    )
)
@settings(max_examples=20, deadline=None)
def test_p39_dataset_model_lineage_registry(
    kind: str, versions: list[tuple[str, list[tuple[str, int]], bool]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records: RecordStore = (
            MemoryRecordStore() if kind == "memory" else SqliteRecordStore(Path(tmp) / "r.db")
        )
        guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("p"))
        content = ContentStore(MemoryBlobStore())
        tracking = TrackingService(records, content, guard)
        tracking.create_experiment("e")
        reg = RegistryService(records, content, guard, runs=tracking, code_version=lambda: None)
        lineage = LineageService(records, guard, runs=tracking)
        made: list[tuple[str, int, list[tuple[str, int]], str | None]] = []
        for name, refs, with_run in versions:
            run_id = tracking.record_run("e").run_id if with_run else None
            mv = reg.register(
                name, {"f": b"x"}, datasets=[f"{d}@{v}" for d, v in refs], run_id=run_id
            )
            made.append((name, mv.version, refs, run_id))
        for name, version, refs, run_id in made:  # model -> data
            fwd = lineage.of_version(name, version)
            assert [(d.name, d.version) for d in fwd.datasets] == refs
            assert fwd.run_id == run_id
            assert (fwd.run is None) == (run_id is None)
            if run_id is not None:  # run -> model
                assert [(r.name, r.version) for r in lineage.versions_from_run(run_id)] == [
                    (name, version)
                ]
        for dataset in ("diabetes", "holdout", "labels"):  # data -> model, exactly
            for dv in (1, 2, 3):
                got = {
                    (u.model, u.model_version) for u in lineage.versions_using_dataset(dataset, dv)
                }
                want = {(n, v) for n, v, refs, _ in made if (dataset, dv) in refs}
                assert got == want
            any_version = {
                (u.model, u.model_version, u.dataset_version)
                for u in lineage.versions_using_dataset(dataset)
            }
            assert any_version == {
                (n, v, dv) for n, v, refs, _ in made for d, dv in refs if d == dataset
            }
