"""Real processes against the SQLite and local-folder adapters: races and SIGKILL."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing as mp
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from modelyard.access.audit import AuditLog
from modelyard.errors import ConflictError, RecordExistsError
from modelyard.storage.localfs import LocalBlobStore
from modelyard.storage.records import Check, Put
from modelyard.storage.sqlite import SqliteRecordStore

pytestmark = pytest.mark.slow
CTX = mp.get_context("spawn")
N_PROCS = 8
N_KEYS = 40


def _race_worker(db: str, worker: int, start_at: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    store = SqliteRecordStore(db)
    while time.time() < start_at:
        time.sleep(0.001)
    won = []
    for i in range(N_KEYS):
        try:
            store.put({"pk": "race", "sk": f"k{i:03d}", "winner": worker}, if_absent=True)
            won.append(i)
        except RecordExistsError:
            pass
    # every worker also tries a transaction whose last condition fails: it must write nothing
    with contextlib.suppress(ConflictError):
        store.transact(
            [
                Put({"pk": "ghost", "sk": f"w{worker}", "x": 1}),
                Check("race", "no-such-key"),
            ]
        )
    out.put((worker, won))


def test_eight_processes_race_conditional_puts(tmp_path: Path) -> None:
    db = tmp_path / "race.db"
    SqliteRecordStore(db).find("init", "init")  # create the schema once
    out: mp.Queue = CTX.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 1.5
    procs = [
        CTX.Process(target=_race_worker, args=(str(db), w, start_at, out)) for w in range(N_PROCS)
    ]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    store = SqliteRecordStore(db)
    items = list(store.query("race"))
    assert [r["sk"] for r in items] == [f"k{i:03d}" for i in range(N_KEYS)]
    # exactly one winner per key, and the stored winner is the process that was told it won
    claimed = sorted(i for won in results.values() for i in won)
    assert claimed == list(range(N_KEYS))
    for record in items:
        assert int(record["sk"][1:]) in results[record["winner"]]
    assert list(store.query("ghost")) == []


def _audit_worker(db: str, worker: int, n: int) -> None:
    log = AuditLog(SqliteRecordStore(db))
    for i in range(n):
        log.append(f"user{worker}", "test.write", f"thing/{i}", "allowed")


def test_audit_log_chain_survives_concurrent_processes(tmp_path: Path) -> None:
    db = str(tmp_path / "audit.db")
    SqliteRecordStore(db).find("init", "init")
    procs = [CTX.Process(target=_audit_worker, args=(db, w, 15)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    log = AuditLog(SqliteRecordStore(db))
    result = log.verify()
    assert result.ok, result.reason
    assert result.entries_checked == 60
    assert [e.seq for e in log.entries()] == list(range(1, 61))


def _blob_race_worker(root: str, worker: int) -> None:
    store = LocalBlobStore(root)
    payload = bytes([worker]) * 200_000
    for _ in range(5):
        for i in range(5):
            store.put(f"same/k{i}", payload)


def test_eight_processes_race_blob_puts_last_whole_write_wins(tmp_path: Path) -> None:
    root = str(tmp_path / "blobs")
    procs = [CTX.Process(target=_blob_race_worker, args=(root, w)) for w in range(N_PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    store = LocalBlobStore(root)
    assert list(store.list()) == [f"same/k{i}" for i in range(5)]
    for key in store.list():
        data = store.get(key)
        assert len(data) == 200_000
        assert data == bytes([data[0]]) * 200_000  # one writer's whole payload, never a mix


def _killable_writer(db: str, root: str, progress: mp.Queue) -> None:  # type: ignore[type-arg]
    records = SqliteRecordStore(db)
    blobs = LocalBlobStore(root)
    i = 0
    while True:
        payload = hashlib.sha256(str(i).encode()).digest() * 40_000  # ~1.3 MB
        key = f"b/{i:06d}"
        blobs.put(key, payload)
        records.transact(
            [
                Put({"pk": "items", "sk": f"{i:06d}", "i": i, "blob": key}),
                Put({"pk": "meta", "sk": "last", "i": i}),
            ]
        )
        progress.put(i)
        i += 1


def test_sigkill_mid_stream_leaves_store_consistent(tmp_path: Path) -> None:
    db = str(tmp_path / "kill.db")
    root = str(tmp_path / "blobs")
    SqliteRecordStore(db).find("init", "init")
    progress: mp.Queue = CTX.Queue()  # type: ignore[type-arg]
    proc = CTX.Process(target=_killable_writer, args=(db, root, progress))
    proc.start()
    committed = -1
    deadline = time.time() + 60
    while committed < 30 and time.time() < deadline:
        committed = progress.get(timeout=60)
    time.sleep(0.05)  # let it get well into the next write
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL
    while not progress.empty():
        committed = max(committed, progress.get_nowait())

    records = SqliteRecordStore(db)
    blobs = LocalBlobStore(root)
    items = list(records.query("items"))
    last = records.get("meta", "last")["i"]
    # every reported commit is there, in one consistent transaction with the 'last' marker
    assert len(items) == last + 1
    assert last >= committed
    assert [r["i"] for r in items] == list(range(last + 1))
    for record in items:
        expected = hashlib.sha256(str(record["i"]).encode()).digest() * 40_000
        assert blobs.get(record["blob"]) == expected
    # no partial blob is visible: everything listed is whole
    for key in blobs.list():
        i = int(key.split("/")[1])
        assert blobs.get(key) == hashlib.sha256(str(i).encode()).digest() * 40_000
    # and the store still takes writes
    records.put({"pk": "after", "sk": "kill", "ok": True})
    blobs.put("after/kill", b"ok")


def _first_touch(db: str, worker: int, start_at: float) -> None:
    store = SqliteRecordStore(db)
    while time.time() < start_at:
        time.sleep(0.001)
    store.put({"pk": "first", "sk": f"w{worker}"})


def test_a_new_database_opened_by_many_processes_and_threads_at_once(tmp_path: Path) -> None:
    # Switching a new file to WAL needs it to itself; SQLite says "locked" at once rather than
    # waiting, so connections opened together must retry instead of failing.
    db = str(tmp_path / "fresh.db")
    start_at = time.time() + 1.0
    procs = [CTX.Process(target=_first_touch, args=(db, w, start_at)) for w in range(N_PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    threaded = SqliteRecordStore(str(tmp_path / "fresh-threads.db"))
    errors: list[BaseException] = []

    def touch(worker: int) -> None:
        try:
            threaded.put({"pk": "first", "sk": f"t{worker}"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=touch, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(list(threaded.query("first"))) == 16
    assert len(list(SqliteRecordStore(db).query("first"))) == N_PROCS
