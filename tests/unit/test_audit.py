"""The hash-chained audit log: appends, verification, and every kind of tampering."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal, RolePolicy
from modelyard.errors import PermissionDeniedError
from modelyard.storage.memory import MemoryRecordStore
from modelyard.storage.records import RecordStore


def _log_with(n: int, records: RecordStore | None = None) -> tuple[AuditLog, RecordStore]:
    store = records or MemoryRecordStore()
    log = AuditLog(store)
    for i in range(n):
        log.append("alice", "models.register", f"model/m{i}", "allowed")
    return log, store


def test_append_chains_and_verifies(records: RecordStore) -> None:
    log, _ = _log_with(5, records)
    entries = list(log.entries())
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    assert log.verify().ok
    assert log.verify().entries_checked == 5


def test_empty_log_verifies() -> None:
    assert AuditLog(MemoryRecordStore()).verify().ok


def _edit(store: RecordStore, seq: int, **changes: object) -> None:
    record = store.get("audit#log", f"{seq:012d}")
    record.update(changes)
    store.put(record)


@given(
    n=st.integers(2, 12),
    data=st.data(),
    field=st.sampled_from(["principal", "action", "resource", "outcome", "time"]),
)
@settings(max_examples=40, deadline=None)
def test_any_edited_entry_is_named(n: int, data: st.DataObject, field: str) -> None:
    log, store = _log_with(n)
    seq = data.draw(st.integers(1, n))
    _edit(store, seq, **{field: "forged"})
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == seq


@given(n=st.integers(2, 12), data=st.data())
@settings(max_examples=30, deadline=None)
def test_edit_with_recomputed_hash_breaks_the_next_link(n: int, data: st.DataObject) -> None:
    from modelyard.access.audit import _entry_hash

    log, store = _log_with(n)
    seq = data.draw(st.integers(1, n - 1))
    record = store.get("audit#log", f"{seq:012d}")
    record["outcome"] = "denied"
    record["hash"] = _entry_hash(record)
    store.put(record)
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == seq + 1


@given(n=st.integers(2, 12), data=st.data())
@settings(max_examples=30, deadline=None)
def test_deleted_entry_is_detected(n: int, data: st.DataObject) -> None:
    log, store = _log_with(n)
    seq = data.draw(st.integers(1, n))
    store.delete("audit#log", f"{seq:012d}")
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == seq


@given(n=st.integers(3, 12), data=st.data())
@settings(max_examples=30, deadline=None)
def test_reordered_entries_are_detected(n: int, data: st.DataObject) -> None:
    log, store = _log_with(n)
    a = data.draw(st.integers(1, n - 1))
    b = data.draw(st.integers(a + 1, n))
    ra = store.get("audit#log", f"{a:012d}")
    rb = store.get("audit#log", f"{b:012d}")
    ra["sk"], rb["sk"] = rb["sk"], ra["sk"]
    store.put(ra)
    store.put(rb)
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == a


def test_swapped_contents_with_renumbering_are_detected() -> None:
    log, store = _log_with(4)
    r2 = store.get("audit#log", f"{2:012d}")
    r3 = store.get("audit#log", f"{3:012d}")
    for record, seq in ((r2, 3), (r3, 2)):
        body = dict(record)
        body["seq"] = seq
        body["sk"] = f"{seq:012d}"
        store.put(body)
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == 2


def test_truncated_tail_is_detected() -> None:
    log, store = _log_with(4)
    store.delete("audit#log", f"{4:012d}")
    result = log.verify()
    assert not result.ok
    assert "head" in result.reason


def test_authorizer_audits_allowed_and_denied() -> None:
    store = MemoryRecordStore()
    log = AuditLog(store)
    policy = RolePolicy({"viewer": {"*.read"}, "admin": {"*"}})
    auth = Authorizer(policy, log)
    viewer = Principal("val", frozenset({"viewer"}))
    auth.authorize(viewer, "models.read", "model/a")
    with pytest.raises(PermissionDeniedError, match=r"'val'.*models.register"):
        auth.authorize(viewer, "models.register", "model/a")
    AccessGuard(Authorizer(AllowAll(), log), Principal("x")).check("anything.do", "r")
    outcomes = [(e.principal, e.action, e.outcome) for e in log.entries()]
    assert outcomes == [
        ("val", "models.read", "allowed"),
        ("val", "models.register", "denied"),
        ("x", "anything.do", "allowed"),
    ]
    assert log.verify().ok
    json.dumps([e.to_dict() for e in log.entries()])
