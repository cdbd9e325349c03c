"""Append-only, hash-chained audit log over the RecordStore port.

Entry ``n`` is stored at (``audit#log``, ``%012d % n``) and carries the sha256 of entry
``n-1``; its own hash covers every field but itself. A head record (``audit#head``) holds the
latest sequence number and hash and moves in the same transaction as each append, so
concurrent writers (threads or processes) serialise on it and a truncated tail is detected.
``verify`` walks the chain and names the first entry that was edited, deleted or reordered.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelyard.access.model import AuditEntry, Outcome
from modelyard.errors import ConflictError, StorageError
from modelyard.storage.records import Put, Record, RecordStore

__all__ = ["GENESIS_HASH", "AuditLog", "AuditVerification"]

GENESIS_HASH = "0" * 64
_LOG = "audit#log"
_HEAD = ("audit#head", "head")
_FIELDS = ("seq", "time", "principal", "action", "resource", "outcome", "prev_hash")
_MAX_ATTEMPTS = 200


def _entry_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps({k: body.get(k) for k in _FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _to_entry(record: Record) -> AuditEntry:
    return AuditEntry(
        seq=int(record["seq"]),
        time=datetime.fromisoformat(record["time"]),
        principal=record["principal"],
        action=record["action"],
        resource=record["resource"],
        outcome=record["outcome"],
        prev_hash=record["prev_hash"],
        hash=record["hash"],
    )


@dataclass(frozen=True)
class AuditVerification:
    """What ``verify`` found: ``ok``, how many entries it checked, and the first bad one."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


class AuditLog:
    """The audit log of one workspace."""

    def __init__(self, records: RecordStore) -> None:
        self._records = records

    def append(self, principal: str, action: str, resource: str, outcome: Outcome) -> AuditEntry:
        """Append one entry; safe under concurrent writers (they retry on the head record).

        Raises:
            StorageError: the backend failed, or the head stayed contended for too long.
        """
        for attempt in range(_MAX_ATTEMPTS):
            head = self._records.find(*_HEAD)
            seq = 1 if head is None else int(head["seq"]) + 1
            prev_hash = GENESIS_HASH if head is None else str(head["hash"])
            body: dict[str, Any] = {
                "seq": seq,
                "time": datetime.now(UTC).isoformat(),
                "principal": principal,
                "action": action,
                "resource": resource,
                "outcome": outcome,
                "prev_hash": prev_hash,
            }
            digest = _entry_hash(body)
            entry = {"pk": _LOG, "sk": f"{seq:012d}", **body, "hash": digest}
            new_head = {"pk": _HEAD[0], "sk": _HEAD[1], "seq": seq, "hash": digest}
            head_write = (
                Put(new_head, if_absent=True)
                if head is None
                else Put(new_head, expect={"seq": head["seq"], "hash": head["hash"]})
            )
            try:
                self._records.transact([Put(entry, if_absent=True), head_write])
            except ConflictError:
                # Another writer appended first: re-read the head and chain after it.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))  # noqa: S311
                continue
            return _to_entry(entry)
        raise StorageError(
            f"could not append to the audit log after {_MAX_ATTEMPTS} attempts (contention)",
            retryable=True,
        )

    def entries(self, *, reverse: bool = False, limit: int | None = None) -> Iterator[AuditEntry]:
        """Entries in sequence order (newest first with ``reverse``)."""
        for record in self._records.query(_LOG, reverse=reverse, limit=limit):
            yield _to_entry(record)

    def verify(self) -> AuditVerification:
        """Check every link of the chain; name the first entry that does not fit."""
        expected_seq = 1
        prev_hash = GENESIS_HASH
        for record in self._records.query(_LOG):
            seq = record.get("seq")
            where = f"entry {seq} (stored at position {expected_seq})"
            if record["sk"] != f"{expected_seq:012d}" or seq != expected_seq:
                return AuditVerification(
                    False,
                    expected_seq - 1,
                    expected_seq,
                    f"{where}: expected entry {expected_seq} here; an entry was deleted, "
                    "inserted or moved",
                )
            if record.get("prev_hash") != prev_hash:
                return AuditVerification(
                    False,
                    expected_seq - 1,
                    expected_seq,
                    f"entry {expected_seq}: its prev_hash does not match entry "
                    f"{expected_seq - 1}; one of the two was altered, or entries were reordered",
                )
            if _entry_hash(record) != record.get("hash"):
                return AuditVerification(
                    False,
                    expected_seq - 1,
                    expected_seq,
                    f"entry {expected_seq}: its content does not match its hash (edited)",
                )
            prev_hash = str(record["hash"])
            expected_seq += 1
        checked = expected_seq - 1
        head = self._records.find(*_HEAD)
        head_seq = 0 if head is None else int(head["seq"])
        head_hash = GENESIS_HASH if head is None else head["hash"]
        if head_seq != checked or head_hash != prev_hash:
            return AuditVerification(
                False,
                checked,
                checked + 1 if head_seq > checked else head_seq,
                f"the log ends at entry {checked} but its head records entry {head_seq}; "
                "entries at the end were deleted or the head was altered",
            )
        return AuditVerification(True, checked)
