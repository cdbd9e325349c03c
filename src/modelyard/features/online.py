"""The online store port: the latest feature values per entity, for real-time reads.

DynamoDB-shaped so that a DynamoDB adapter can honour it exactly: a *table* per feature group
version (in DynamoDB: partition key ``"<group>/v<version>"``, sort key = entity key), one item
per entity holding its event time, ingestion time and an encoded value (a JSON object of the
features). Writes are conditional: an item is replaced only by a newer one, newer meaning a
later (event time, ingestion time) pair, so incremental and out-of-order materialisation
always converge on the latest point-in-time value. Adapters: ``storage/online_memory.py``
(reference model), ``storage/online_sqlite.py`` (embedded default). Every adapter passes
``tests/contract/test_online_store.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

__all__ = ["OnlineItem", "OnlineStore"]

# (entity key, event time µs since epoch UTC, ingestion time µs, encoded value)
OnlineItem = tuple[str, int, int, str]


@runtime_checkable
class OnlineStore(Protocol):
    """Latest values by (group, version, entity key)."""

    def put_many(self, group: str, version: int, items: Iterable[OnlineItem]) -> int:
        """Write items, each only if it is newer than the stored one; all or nothing.

        Newer: a greater event time, or an equal event time and an equal or greater ingestion
        time. Returns how many items were offered.

        Raises:
            StorageError: the backend failed; nothing was written.
        """
        ...

    def get_many(self, group: str, version: int, keys: Sequence[str]) -> list[str | None]:
        """The encoded values for ``keys``, in order; None where an entity has none.

        Raises:
            StorageError: the backend failed.
        """
        ...

    def get_items(self, group: str, version: int, keys: Sequence[str]) -> list[OnlineItem | None]:
        """Like ``get_many`` but with event and ingestion times (for audits and tests)."""
        ...

    def count(self, group: str, version: int) -> int:
        """How many entities the table holds."""
        ...

    def drop(self, group: str, version: int) -> None:
        """Remove every item of the table (a full re-materialisation starts here)."""
        ...

    def close(self) -> None:
        """Release connections; the store may be used again afterwards (it reconnects)."""
        ...
