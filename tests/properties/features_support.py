"""Shared strategies and a service factory for the feature store properties (P15-P18)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import polars as pl
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.features import FeatureGroupSpec, FeatureService
from modelyard.storage.localfs import LocalBlobStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.online_memory import MemoryOnlineStore
from modelyard.storage.online_sqlite import SqliteOnlineStore

T0 = datetime(2020, 1, 1, tzinfo=UTC)
SPEC = FeatureGroupSpec.model_validate(
    {
        "name": "enc",
        "entity_key": "id",
        "event_time": "ts",
        "features": [
            {"name": "x", "dtype": "float64"},
            {"name": "n", "dtype": "int64"},
            {"name": "s", "dtype": "string"},
            {"name": "b", "dtype": "bool"},
        ],
    }
)
FEATURES = SPEC.feature_names

values = st.fixed_dictionaries(
    {
        "x": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        "n": st.none() | st.integers(min_value=-(2**62), max_value=2**62),
        "s": st.none() | st.text(max_size=6),
        "b": st.none() | st.booleans(),
    }
)
# One batch: unique (id, day) pairs -> feature values.
batches = st.dictionaries(
    st.tuples(st.integers(0, 6), st.integers(0, 8)), values, min_size=1, max_size=12
)


def to_frame(batch: dict[tuple[int, int], dict[str, object]]) -> pl.DataFrame:
    keys = sorted(batch)
    return pl.DataFrame(
        {
            "id": [k[0] for k in keys],
            "ts": [T0 + timedelta(hours=k[1]) for k in keys],
            "x": [batch[k]["x"] for k in keys],
            "n": [batch[k]["n"] for k in keys],
            "s": [batch[k]["s"] for k in keys],
            "b": [batch[k]["b"] for k in keys],
        },
        schema={
            "id": pl.Int64,
            "ts": pl.Datetime("us", "UTC"),
            "x": pl.Float64,
            "n": pl.Int64,
            "s": pl.String,
            "b": pl.Boolean,
        },
    )


class Stores:
    def __init__(self, folder: Path, durable: bool) -> None:
        self.records = MemoryRecordStore()
        self.blobs = LocalBlobStore(folder / "blobs") if durable else MemoryBlobStore()
        self.online = SqliteOnlineStore(folder / "online.db") if durable else MemoryOnlineStore()
        self.audit = AuditLog(self.records)

    def service(self, user: str = "alice") -> FeatureService:
        guard = AccessGuard(Authorizer(AllowAll(), self.audit), Principal(user))
        return FeatureService(self.records, self.blobs, self.online, guard)


@contextmanager
def stores(durable: bool) -> Iterator[Stores]:
    with TemporaryDirectory() as tmp:
        s = Stores(Path(tmp), durable)
        try:
            yield s
        finally:
            s.online.close()
