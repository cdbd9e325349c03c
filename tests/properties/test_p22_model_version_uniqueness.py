"""Property 22: versions are unique and strictly increasing, also under concurrent registration.

The real-process variant (8 processes x 25 versions) is in
tests/integration/test_registry_concurrency.py; here threads race on one SQLite file.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.registry import RegistryService
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore


def registry(records: RecordStore, blobs: MemoryBlobStore) -> RegistryService:
    guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("p"))
    return RegistryService(records, ContentStore(blobs), guard, code_version=lambda: None)


@given(
    writers=st.integers(1, 4),
    per_writer=st.integers(1, 6),
    sqlite=st.booleans(),
    other_model_every=st.integers(2, 5),
)
@settings(max_examples=12, deadline=None)
def test_p22_model_version_uniqueness(
    writers: int, per_writer: int, sqlite: bool, other_model_every: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        records: RecordStore = (
            SqliteRecordStore(Path(tmp) / "r.db") if sqlite else MemoryRecordStore()
        )
        blobs = MemoryBlobStore()
        results: list[tuple[str, int, bytes]] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(writers)

        def work(w: int) -> None:
            reg = registry(records, blobs)  # one service per writer, one shared store
            start.wait()
            try:
                for i in range(per_writer):
                    name = "other" if i % other_model_every == 0 else "m"
                    payload = f"{w}-{i}".encode()
                    mv = reg.register(name, {"model.bin": payload})
                    with lock:
                        results.append((name, mv.version, payload))
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        reg = registry(records, blobs)
        for name in ("m", "other"):
            mine = sorted(v for n, v, _ in results if n == name)
            assert mine == list(range(1, len(mine) + 1))  # unique, no gaps
            if mine:
                stored = [v.version for v in reg.list_versions(name)]
                assert stored == mine  # listed in strictly increasing order
        for name, version, payload in results:
            assert reg.load_artifact(name, version) == payload
        records.close()
