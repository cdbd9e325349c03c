"""In-memory adapters: the reference model of both ports (``memory://``)."""

from __future__ import annotations

import bisect
import io
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from modelyard.errors import BlobNotFoundError, InvalidInputError, RecordNotFoundError
from modelyard.storage.keys import validate_blob_key, validate_blob_prefix, validate_record_key
from modelyard.storage.records import (
    Delete,
    Put,
    Record,
    Write,
    check_condition,
    check_record,
    decode_attributes,
    encode_attributes,
    plan_writes,
)

__all__ = ["MemoryBlobStore", "MemoryRecordStore"]


class MemoryRecordStore:
    """Records in a dict of sorted partitions; thread-safe; nothing survives the process."""

    def __init__(self) -> None:
        self._parts: dict[str, dict[str, str]] = {}
        self._sorted: dict[str, list[str]] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_uri(cls, uri: str) -> MemoryRecordStore:
        """``memory://``: a fresh, empty store."""
        return cls()

    def _current(self, pk: str, sk: str) -> Record | None:
        text = self._parts.get(pk, {}).get(sk)
        return None if text is None else decode_attributes(pk, sk, text)

    def _store(self, pk: str, sk: str, text: str) -> None:
        part = self._parts.setdefault(pk, {})
        if sk not in part:
            bisect.insort(self._sorted.setdefault(pk, []), sk)
        part[sk] = text

    def _remove(self, pk: str, sk: str) -> None:
        part = self._parts.get(pk)
        if part is not None and sk in part:
            del part[sk]
            keys = self._sorted[pk]
            keys.pop(bisect.bisect_left(keys, sk))

    def put(
        self, item: Record, *, if_absent: bool = False, expect: Mapping[str, Any] | None = None
    ) -> None:
        self.transact([Put(item, if_absent=if_absent, expect=expect)])

    def put_many(self, items: Sequence[Record]) -> None:
        encoded = [(*check_record(item), encode_attributes(item)) for item in items]
        with self._lock:
            for pk, sk, text in encoded:
                self._store(pk, sk, text)

    def get(self, pk: str, sk: str) -> Record:
        found = self.find(pk, sk)
        if found is None:
            raise RecordNotFoundError(f"no record at pk={pk!r}, sk={sk!r}")
        return found

    def find(self, pk: str, sk: str) -> Record | None:
        validate_record_key("pk", pk)
        validate_record_key("sk", sk)
        with self._lock:
            return self._current(pk, sk)

    def delete(self, pk: str, sk: str) -> None:
        self.transact([Delete(pk, sk)])

    def query(
        self, pk: str, *, prefix: str = "", reverse: bool = False, limit: int | None = None
    ) -> Iterator[Record]:
        validate_record_key("pk", pk)
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must be >= 0, got {limit}")
        with self._lock:
            keys = self._sorted.get(pk, [])
            lo = bisect.bisect_left(keys, prefix)
            selected = [k for k in keys[lo:] if k.startswith(prefix)] if prefix else keys[lo:]
            # Sort keys are compared by code point here and by UTF-8 bytes in SQLite;
            # both orders agree for valid strings.
            if reverse:
                selected = selected[::-1]
            if limit is not None:
                selected = selected[:limit]
            part = self._parts.get(pk, {})
            rows = [decode_attributes(pk, sk, part[sk]) for sk in selected]
        yield from rows

    def transact(self, writes: Sequence[Write]) -> None:
        plan = plan_writes(writes)
        with self._lock:
            for write in writes:
                check_condition(write, self._current)
            for write, text in plan:
                if isinstance(write, Put):
                    pk, sk = write.item["pk"], write.item["sk"]
                    assert text is not None
                    self._store(pk, sk, text)
                elif isinstance(write, Delete):
                    self._remove(write.pk, write.sk)

    def close(self) -> None:
        return None


class MemoryBlobStore:
    """Blobs in a dict; thread-safe; nothing survives the process."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_uri(cls, uri: str) -> MemoryBlobStore:
        """``memory://``: a fresh, empty store."""
        return cls()

    def put(self, key: str, data: bytes) -> None:
        validate_blob_key(key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"blob data must be bytes, got {type(data).__name__}")
        with self._lock:
            self._data[key] = bytes(data)

    def put_file(self, key: str, path: Path) -> None:
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"{str(source)!r} is not a readable file")
        self.put(key, source.read_bytes())

    def get(self, key: str) -> bytes:
        validate_blob_key(key)
        with self._lock:
            try:
                return self._data[key]
            except KeyError:
                raise BlobNotFoundError(f"no blob under key {key!r}") from None

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self.get(key))

    def exists(self, key: str) -> bool:
        validate_blob_key(key)
        with self._lock:
            return key in self._data

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_blob_prefix(prefix)
        with self._lock:
            keys = sorted(k for k in self._data if k.startswith(prefix))
        yield from keys

    def delete(self, key: str) -> None:
        validate_blob_key(key)
        with self._lock:
            self._data.pop(key, None)

    def local_path(self, key: str) -> Path | None:
        validate_blob_key(key)
        return None
