"""Property 23: new versions never alter earlier versions or their artifacts."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.errors import ConflictError
from modelyard.registry import RegistryService
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore

step = st.one_of(
    st.tuples(
        st.just("register"),
        st.binary(min_size=1, max_size=32),
        st.floats(0, 1),
        st.sampled_from(["a.bin", "b.bin"]),
    ),
    st.tuples(st.sampled_from(["approve", "reject", "archive"]), st.integers(1, 8)),
    st.tuples(st.just("tag"), st.integers(1, 8), st.text("abc xyz", min_size=1, max_size=5)),
)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(steps=st.lists(step, min_size=1, max_size=15))
@settings(max_examples=20, deadline=None)
def test_p23_model_version_preservation(kind: str, steps: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records: RecordStore = (
            MemoryRecordStore() if kind == "memory" else SqliteRecordStore(Path(tmp) / "r.db")
        )
        guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("p"))
        reg = RegistryService(
            records, ContentStore(MemoryBlobStore()), guard, code_version=lambda: None
        )
        snapshots: dict[int, tuple[dict[str, object], dict[str, bytes]]] = {}

        def immutable(version: int) -> dict[str, object]:
            d = reg.get_version("m", version).to_dict()
            for moving in ("status", "approval", "tags", "history"):
                d.pop(moving)
            return d

        for item in steps:
            action = item[0]
            if action == "register":
                _, payload, auc, art_name = item
                mv = reg.register("m", {str(art_name): payload}, metrics={"auc": auc})  # type: ignore[dict-item]
                snapshots[mv.version] = (immutable(mv.version), {str(art_name): payload})  # type: ignore[dict-item]
            elif int(item[1]) in snapshots:  # type: ignore[call-overload]
                version = int(item[1])  # type: ignore[call-overload]
                if action == "tag":
                    reg.set_tag("m", version, "note", str(item[2]))
                else:
                    # an illegal transition raises and changes nothing either
                    with contextlib.suppress(ConflictError):
                        getattr(reg, str(action))("m", version, comment="why")
            for version, (meta, arts) in snapshots.items():
                assert immutable(version) == meta
                assert reg.load_artifacts("m", version) == arts
