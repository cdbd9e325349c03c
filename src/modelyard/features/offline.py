"""The offline store: immutable Parquet partitions in the BlobStore, and point-in-time joins.

Layout: ``features/<group>/v<version>/ingest=<seq>/part-0.parquet``, one partition per
ingestion, never rewritten. Each file holds the entity key columns, the event-time column,
the features and ``ingested_at`` (UTC microseconds). Which partitions exist is decided by the
ingestion records in the RecordStore, not by listing blobs, so a crashed ingestion leaves no
visible rows. Every partition is verified against its recorded sha256 before it is read.

Reads are lazy Polars scans (``scan_parquet`` straight on the file when the BlobStore has a
local one); the point-in-time join is Polars' ``join_asof`` (no row loops).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from modelyard.errors import ChecksumMismatchError, InvalidInputError
from modelyard.features.model import INGESTED_AT, FeatureGroupSpec, Ingestion
from modelyard.features.schema import DTYPES, EVENT_DTYPE, parse_datetimes
from modelyard.storage.blobs import BlobStore

__all__ = [
    "GroupRead",
    "OfflineStore",
    "latest_per_entity",
    "partition_key",
    "point_in_time_join",
]

_IDX = "__modelyard_idx"
_CHUNK = 1 << 20


def partition_key(group: str, version: int, seq: int) -> str:
    return f"features/{group}/v{version}/ingest={seq:08d}/part-0.parquet"


class OfflineStore:
    """Writes and scans partitions through the BlobStore port."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    def write(self, key: str, frame: pl.DataFrame) -> tuple[str, int]:
        """Write ``frame`` as one Parquet blob; return (sha256, size in bytes)."""
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd", statistics=True)
        data = buffer.getvalue()
        self._blobs.put(key, data)
        return hashlib.sha256(data).hexdigest(), len(data)

    def scan(self, spec: FeatureGroupSpec, parts: Sequence[Ingestion]) -> pl.LazyFrame:
        """A lazy frame over the given partitions (verified), in the group's schema."""
        if not parts:
            return empty_frame(spec).lazy()
        # Rows come out in ingestion (seq) order: the point-in-time join relies on it.
        ordered = sorted(parts, key=lambda p: p.seq)
        paths: list[str] = []
        frames: list[pl.LazyFrame] = []
        for part in ordered:
            path = self._blobs.local_path(part.key)
            if path is not None:
                _verify(part, _hash_file(path), path.stat().st_size)
                paths.append(str(path))
                frames.append(pl.scan_parquet(path))
            else:
                data = self._blobs.get(part.key)
                _verify(part, hashlib.sha256(data).hexdigest(), len(data))
                frames.append(pl.read_parquet(io.BytesIO(data)).lazy())
        if len(paths) == len(frames):
            return pl.scan_parquet(paths)  # one multi-file scan: order kept, faster
        return pl.concat(frames, how="vertical")


def empty_frame(spec: FeatureGroupSpec) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        k: DTYPES[t] for k, t in zip(spec.entity_key, spec.key_types, strict=True)
    }
    schema[spec.event_time] = EVENT_DTYPE
    for feat in spec.features:
        schema[feat.name] = DTYPES[feat.dtype]
    schema[INGESTED_AT] = EVENT_DTYPE
    return pl.DataFrame(schema=schema)


def _hash_file(path: object) -> str:
    digest = hashlib.sha256()
    with open(str(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(part: Ingestion, sha256: str, size: int) -> None:
    if sha256 != part.sha256 or size != part.size_bytes:
        raise ChecksumMismatchError(
            f"feature partition {part.key!r} is corrupt: expected sha256 {part.sha256} "
            f"({part.size_bytes} bytes), found {sha256} ({size} bytes)",
            hint="restore the partition from a backup; it was altered after ingestion",
        )


def latest_per_entity(lf: pl.LazyFrame, spec: FeatureGroupSpec) -> pl.LazyFrame:
    """The row with the greatest (event time, ingestion time) for each entity."""
    return lf.sort([spec.event_time, INGESTED_AT]).unique(
        subset=list(spec.entity_key), keep="last", maintain_order=False
    )


@dataclass(frozen=True)
class GroupRead:
    """One group version taking part in a point-in-time join."""

    spec: FeatureGroupSpec
    frame: pl.LazyFrame
    features: tuple[str, ...]
    ttl: timedelta | None = None
    prefix: str = ""
    with_times: bool = False


def point_in_time_join(
    entities: pl.DataFrame,
    reads: Sequence[GroupRead],
    *,
    timestamp: str,
) -> pl.DataFrame:
    """For every entity row, each group's latest values at or before the row's timestamp.

    Latest means the greatest event time <= the timestamp; among rows with that event time the
    one ingested last. With a TTL, values older than ``timestamp - ttl`` are null. The result
    keeps the entity frame's rows, order and columns and appends the features.

    Raises:
        InvalidInputError: missing key/timestamp columns, null timestamps, uncastable keys.
    """
    if timestamp not in entities.columns:
        raise InvalidInputError(
            f"the entity frame has no timestamp column {timestamp!r} (columns: {entities.columns})",
            hint="name the column holding each row's as-of time with timestamp=…",
        )
    left = entities.with_row_index(_IDX)
    ts = _as_utc(left, timestamp)
    left = left.with_columns(ts.alias("__modelyard_ts"))
    nulls = left.filter(pl.col("__modelyard_ts").is_null()).height
    if nulls:
        raise InvalidInputError(
            f"{nulls} entity rows have no timestamp in column {timestamp!r}",
            hint="every entity row needs the time at which its features are wanted",
        )
    # Only keys, timestamps and row numbers go through the sorts and the as-of join; the
    # feature columns are gathered once at the end by the matched row number.
    probe = left.select(_IDX, "__modelyard_ts")
    taken = set(entities.columns)
    columns: list[pl.Series] = []
    for read in reads:
        spec = read.spec
        missing = [k for k in spec.entity_key if k not in entities.columns]
        if missing:
            raise InvalidInputError(
                f"the entity frame lacks the key column(s) {missing} of feature group "
                f"{spec.name!r}",
                hint=f"the group is keyed by {list(spec.entity_key)}",
            )
        by = [f"__key_{k}" for k in spec.entity_key]
        try:
            keyed = probe.with_columns(
                left.select(
                    pl.col(k).cast(DTYPES[t]).alias(f"__key_{k}")
                    for k, t in zip(spec.entity_key, spec.key_types, strict=True)
                )
            )
        except pl.exceptions.PolarsError as exc:
            raise InvalidInputError(
                f"entity key columns {list(spec.entity_key)} do not convert to the key types "
                f"{[t.value for t in spec.key_types]} of group {spec.name!r}"
            ) from exc
        renames = {f: f"{read.prefix}{f}" for f in read.features}
        et_col = f"{read.prefix or spec.name + '__'}event_time"
        it_col = f"{read.prefix or spec.name + '__'}ingested_at"
        added = [*renames.values(), *((et_col, it_col) if read.with_times else ())]
        clash = sorted(set(added) & taken)
        if clash:
            raise InvalidInputError(
                f"column(s) {clash} of group {spec.name!r} clash with columns already in the "
                "result",
                hint="use full_names=True to prefix every feature with its group name",
            )
        taken.update(added)
        stored = read.frame.collect()
        index = stored.select(
            *(pl.col(k).alias(f"__key_{k}") for k in spec.entity_key),
            pl.col(spec.event_time).alias("__modelyard_et"),
        ).with_row_index("__modelyard_row")
        # join_asof "backward" takes the *last* right row whose time is <= the left time.
        # Rows come in ingestion order, so a stable sort makes the latest ingestion of an
        # equal (key, event time) the last one: a late correction wins ties.
        index = index.sort([*by, "__modelyard_et"], maintain_order=True)
        matched = (
            keyed.sort([*by, "__modelyard_ts"])
            .join_asof(
                index,
                left_on="__modelyard_ts",
                right_on="__modelyard_et",
                by=by,
                strategy="backward",
                tolerance=read.ttl,
                check_sortedness=False,
            )
            .sort(_IDX)
        )["__modelyard_row"]
        picked = stored.select(
            *(pl.col(f).gather(matched).alias(renames[f]) for f in read.features),
            *(
                (
                    pl.col(spec.event_time).gather(matched).alias(et_col),
                    pl.col(INGESTED_AT).gather(matched).alias(it_col),
                )
                if read.with_times
                else ()
            ),
        )
        columns.extend(picked.get_columns())
    return entities.hstack(columns)


def _as_utc(frame: pl.DataFrame, column: str) -> pl.Expr:
    dtype = frame.schema[column]
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        conv = (
            col.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else col.dt.convert_time_zone("UTC")
        )
        return conv.cast(EVENT_DTYPE)
    if dtype == pl.Date:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if dtype == pl.String:
        return parse_datetimes(col)
    raise InvalidInputError(
        f"timestamp column {column!r} has type {dtype}; expected a datetime, date or ISO string"
    )


def utc_micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware (or naive = UTC) datetime."""
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
