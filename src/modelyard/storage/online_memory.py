"""In-memory online feature store (``memory://``): the reference model of the online port."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

__all__ = ["MemoryOnlineStore"]

_Item = tuple[str, int, int, str]


class MemoryOnlineStore:
    """Latest values per (group, version, key) in dicts; thread-safe; nothing persists."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, _Item]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_uri(cls, uri: str) -> MemoryOnlineStore:
        return cls()

    def put_many(self, group: str, version: int, items: Iterable[_Item]) -> int:
        batch = [(str(k), int(et), int(it), str(v)) for k, et, it, v in items]
        with self._lock:
            table = self._tables.setdefault(f"{group}/v{version}", {})
            for item in batch:
                old = table.get(item[0])
                if old is None or (item[1], item[2]) >= (old[1], old[2]):
                    table[item[0]] = item
        return len(batch)

    def get_many(self, group: str, version: int, keys: Sequence[str]) -> list[str | None]:
        table = self._tables.get(f"{group}/v{version}", {})
        out: list[str | None] = []
        for key in keys:
            item = table.get(key)
            out.append(None if item is None else item[3])
        return out

    def get_items(self, group: str, version: int, keys: Sequence[str]) -> list[_Item | None]:
        table = self._tables.get(f"{group}/v{version}", {})
        return [table.get(key) for key in keys]

    def count(self, group: str, version: int) -> int:
        return len(self._tables.get(f"{group}/v{version}", {}))

    def drop(self, group: str, version: int) -> None:
        with self._lock:
            self._tables.pop(f"{group}/v{version}", None)

    def close(self) -> None:
        """Nothing to release."""
