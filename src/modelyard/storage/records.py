"""The RecordStore port: the one metadata port of modelyard.

Items are addressed by (partition key ``pk``, sort key ``sk``) and carry JSON-able attributes,
the shape DynamoDB has, so that every backend (memory, SQLite, PostgreSQL, DynamoDB) can
honour the same contract exactly. Repositories for models, runs, datasets … are written once,
over this port.

A record is a plain ``dict`` with string keys ``"pk"`` and ``"sk"`` plus any JSON-able
attributes (str, int, float, bool, None, lists and dicts of those). What ``get`` returns equals
what ``put`` stored (a fresh copy; mutating it never changes the store).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from modelyard.errors import ConflictError, InvalidInputError, RecordExistsError
from modelyard.storage.keys import validate_record_key

__all__ = [
    "Check",
    "Delete",
    "Put",
    "Record",
    "RecordStore",
    "Write",
    "check_condition",
    "check_record",
    "decode_attributes",
    "encode_attributes",
    "matches_expectation",
    "plan_writes",
    "upper_bound",
]

Record = dict[str, Any]


@dataclass(frozen=True)
class Put:
    """Write ``item``.

    ``if_absent``: the key must not exist. ``expect``: the key must exist and each named
    attribute must currently equal the given value (optimistic locking).
    """

    item: Record
    if_absent: bool = False
    expect: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Delete:
    """Delete the item at (pk, sk); ``must_exist`` makes a missing item a conflict."""

    pk: str
    sk: str
    must_exist: bool = False


@dataclass(frozen=True)
class Check:
    """Write nothing; require that (pk, sk) exists (``exists=True``) or does not."""

    pk: str
    sk: str
    exists: bool = True
    expect: Mapping[str, Any] = field(default_factory=dict)


Write = Put | Delete | Check


@runtime_checkable
class RecordStore(Protocol):
    """Items by (pk, sk). Every adapter passes ``tests/contract/test_records.py``."""

    def put(
        self, item: Record, *, if_absent: bool = False, expect: Mapping[str, Any] | None = None
    ) -> None:
        """Store ``item`` (replacing any item at its key).

        Raises:
            InvalidInputError: missing or invalid pk/sk, or attributes that are not JSON-able.
            RecordExistsError: ``if_absent`` and the key exists; nothing is written.
            ConflictError: ``expect`` given and the item is missing or differs; nothing written.
            StorageError: the backend failed.
        """
        ...

    def put_many(self, items: Sequence[Record]) -> None:
        """Store many items in one all-or-nothing batch (unconditional).

        Raises:
            InvalidInputError: any item invalid; nothing is written.
            StorageError: the backend failed; nothing is written.
        """
        ...

    def get(self, pk: str, sk: str) -> Record:
        """Return the item at (pk, sk).

        Raises:
            RecordNotFoundError: no item there.
            StorageError: the backend failed.
        """
        ...

    def find(self, pk: str, sk: str) -> Record | None:
        """Return the item at (pk, sk), or None."""
        ...

    def delete(self, pk: str, sk: str) -> None:
        """Delete the item at (pk, sk); deleting a missing item is not an error."""
        ...

    def query(
        self, pk: str, *, prefix: str = "", reverse: bool = False, limit: int | None = None
    ) -> Iterator[Record]:
        """Items of partition ``pk`` whose sk starts with ``prefix``, in sk order.

        Sort keys compare as Unicode code points (the byte order of their UTF-8 form).

        Raises:
            InvalidInputError: invalid pk or a negative limit.
            StorageError: the backend failed.
        """
        ...

    def transact(self, writes: Sequence[Write]) -> None:
        """Apply ``writes`` all or nothing.

        Raises:
            InvalidInputError: an invalid write, or two writes to the same key.
            ConflictError: a condition failed; names the key; nothing is written.
            StorageError: the backend failed; nothing is written.
        """
        ...

    def close(self) -> None:
        """Release connections; the store may be used again afterwards (it reconnects)."""
        ...


def check_record(item: object) -> tuple[str, str]:
    """Validate a record's shape; return its (pk, sk)."""
    if not isinstance(item, dict):
        raise InvalidInputError(f"a record must be a dict, got {type(item).__name__}")
    if "pk" not in item or "sk" not in item:
        raise InvalidInputError("a record needs both 'pk' and 'sk' keys")
    return validate_record_key("pk", item["pk"]), validate_record_key("sk", item["sk"])


def _reject_non_finite(value: float) -> float:
    raise InvalidInputError(
        f"record attributes must be finite numbers, got {value!r}",
        hint="encode NaN or infinity as a string or null before storing",
    )


_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, allow_nan=False)


def encode_attributes(item: Record) -> str:
    """The canonical JSON text of a record's attributes (without pk/sk)."""
    attrs = {k: v for k, v in item.items() if k != "pk" and k != "sk"}
    try:
        text = _ENCODER.encode(attrs)
    except (TypeError, ValueError) as exc:
        for value in _walk(attrs):
            if isinstance(value, float) and not math.isfinite(value):
                _reject_non_finite(value)
        raise InvalidInputError(f"record attributes are not JSON-able: {exc}") from exc
    return text


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v)


def decode_attributes(pk: str, sk: str, text: str) -> Record:
    """Rebuild a record from its key and canonical JSON attributes."""
    record: Record = json.loads(text)
    record["pk"] = pk
    record["sk"] = sk
    return record


def matches_expectation(current: Record | None, expect: Mapping[str, Any]) -> bool:
    """True if ``current`` exists and each expected attribute equals the given value."""
    if current is None:
        return False
    return all(current.get(k) == v for k, v in expect.items())


def upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: no bound)."""
    chars = list(prefix)
    while chars:
        last = ord(chars[-1])
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:
                nxt = 0xE000
            chars[-1] = chr(nxt)
            return "".join(chars)
        chars.pop()
    return None


def plan_writes(writes: Sequence[Write]) -> list[tuple[Write, str | None]]:
    """Validate every write up front; refuse two writes to one key."""
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[Write, str | None]] = []
    for write in writes:
        if isinstance(write, Put):
            key = check_record(write.item)
            if write.if_absent and write.expect:
                raise InvalidInputError("a put cannot have both if_absent and expect")
            plan.append((write, encode_attributes(write.item)))
        elif isinstance(write, Delete | Check):
            key = (validate_record_key("pk", write.pk), validate_record_key("sk", write.sk))
            plan.append((write, None))
        else:
            raise InvalidInputError(f"unknown write {write!r}; use Put, Delete or Check")
        if key in seen:
            raise InvalidInputError(
                f"two writes in one transaction touch pk={key[0]!r}, sk={key[1]!r}"
            )
        seen.add(key)
    return plan


def check_condition(write: Write, current: Callable[[str, str], Record | None]) -> None:
    """Raise if ``write``'s condition fails against ``current(pk, sk)``."""
    if isinstance(write, Put):
        pk, sk = write.item["pk"], write.item["sk"]
        if write.if_absent and current(pk, sk) is not None:
            raise RecordExistsError(f"a record already exists at pk={pk!r}, sk={sk!r}")
        if write.expect is not None and not matches_expectation(current(pk, sk), write.expect):
            raise ConflictError(
                f"record at pk={pk!r}, sk={sk!r} is missing or changed since it was read"
            )
    elif isinstance(write, Delete):
        if write.must_exist and current(write.pk, write.sk) is None:
            raise ConflictError(f"no record at pk={write.pk!r}, sk={write.sk!r} to delete")
    elif isinstance(write, Check):
        found = current(write.pk, write.sk)
        if write.exists and not matches_expectation(found, write.expect):
            raise ConflictError(
                f"condition failed: record at pk={write.pk!r}, sk={write.sk!r} "
                "is missing or differs"
            )
        if not write.exists and found is not None:
            raise ConflictError(
                f"condition failed: record at pk={write.pk!r}, sk={write.sk!r} exists"
            )
