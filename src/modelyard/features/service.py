"""The feature store use cases: apply definitions, ingest, retrieve, materialize, serve.

Records (RecordStore):
    ("features", "group/<name>")                   group header: latest version, metadata
    ("features/<name>", "version/<kkkkkk>")        one immutable version: spec + fingerprint
    ("features/<name>/v<k>", "ingest/<seq>")       one ingestion (pending -> committed | failed)
    ("features/<name>/v<k>", "materialized")       online watermark: last materialized seq
    ("features/<name>/v<k>", "matlog/<time>")      one materialization run
Blobs (BlobStore): ``features/<name>/v<k>/ingest=<seq>/part-0.parquet``.

Ingestion reserves its sequence number first (a conditional put), writes the partition,
then commits the record; readers see committed partitions only, so a failed ingestion
leaves nothing visible. Ingestion times are strictly increasing in sequence order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from modelyard.access import AccessGuard
from modelyard.errors import (
    ConflictError,
    EntityNotFoundError,
    FeatureGroupNotFoundError,
    InvalidInputError,
    RecordExistsError,
)
from modelyard.features.model import (
    INGESTED_AT,
    FeatureGroupSpec,
    FeatureGroupVersion,
    FeaturePin,
    FeatureType,
    Ingestion,
    Materialization,
    PlanItem,
)
from modelyard.features.offline import (
    GroupRead,
    OfflineStore,
    latest_per_entity,
    partition_key,
    point_in_time_join,
)
from modelyard.features.online import OnlineStore
from modelyard.features.schema import conform
from modelyard.storage.blobs import BlobStore
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, Record, RecordStore

__all__ = ["FeatureService", "OnlineReader", "encode_key_expr"]

_ROOT = "features"
_KEY_SEP = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A reservation still pending after this long belongs to a writer that died (kill -9).
_ABANDONED_AFTER = timedelta(hours=1)
FrameLike = Any  # pl.DataFrame | pandas.DataFrame | str | Path


def _now() -> datetime:
    return datetime.now(UTC)


def _group_pk(name: str) -> str:
    return f"{_ROOT}/{name}"


def _version_pk(name: str, version: int) -> str:
    return f"{_ROOT}/{name}/v{version}"


def _from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class FeatureService:
    """Feature groups, versions, offline retrieval and online serving.

    Args:
        records: metadata (groups, versions, ingestions, watermarks).
        blobs: the offline Parquet partitions.
        online: the online store adapter.
        guard: every read and write is authorized (and audited) through it.
        clock: the current UTC time (tests pass a fake one).
    """

    def __init__(
        self,
        records: RecordStore,
        blobs: BlobStore,
        online: OnlineStore,
        guard: AccessGuard,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._records = records
        self._offline = OfflineStore(blobs)
        self._online = online
        self._guard = guard
        self._clock = clock

    @property
    def _who(self) -> str:
        return self._guard.principal.name

    def _check(self, action: str, name: str) -> None:
        self._guard.check(f"features.{action}", f"feature_group/{name}")

    # -- definitions -------------------------------------------------------------------------
    def plan(self, specs: Sequence[FeatureGroupSpec]) -> list[PlanItem]:
        """What ``apply`` would do, group by group (writes nothing).

        Raises:
            ConflictError: a definition would change an existing version in place.
            InvalidInputError: an explicit version skips numbers.
        """
        return [self._plan_one(spec) for spec in specs]

    def _plan_one(self, spec: FeatureGroupSpec) -> PlanItem:
        header = self._records.find(_ROOT, f"group/{spec.name}")
        if header is None:
            if spec.version not in (None, 1):
                raise InvalidInputError(
                    f"feature group {spec.name!r} does not exist yet, so its first version is "
                    f"1, not {spec.version}",
                    hint="leave `version` out or set it to 1",
                )
            return PlanItem(spec.name, "create", 1, None, ["new feature group"])
        latest = int(header["latest_version"])
        fingerprint = spec.fingerprint()
        target = spec.version
        if target is not None and target <= latest:
            existing = self.get_version(spec.name, target, _checked=True)
            if existing.fingerprint != fingerprint:
                raise ConflictError(
                    f"the definition of {spec.name!r} v{target} differs from the stored v{target} "
                    f"({', '.join(_schema_changes(existing.spec, spec))}); versions are immutable "
                    "and history is never rewritten in place",
                    hint=f"declare version {latest + 1} (or leave `version` out) to make a new "
                    "version",
                )
            return self._metadata_plan(spec, header, target)
        if target is not None and target > latest + 1:
            raise InvalidInputError(
                f"feature group {spec.name!r} is at v{latest}; the next version is "
                f"{latest + 1}, not {target}",
                hint="versions are consecutive; leave `version` out to let apply choose",
            )
        current = self.get_version(spec.name, latest, _checked=True)
        if target is None and current.fingerprint == fingerprint:
            return self._metadata_plan(spec, header, latest)
        return PlanItem(
            spec.name,
            "new_version",
            latest + 1,
            latest,
            _schema_changes(current.spec, spec) or ["explicit new version, same schema"],
        )

    def _metadata_plan(self, spec: FeatureGroupSpec, header: Record, version: int) -> PlanItem:
        changes = [
            f"{key}: {header.get(key)!r} -> {value!r}"
            for key, value in spec.metadata_dict().items()
            if header.get(key) != value
        ]
        if not changes:
            return PlanItem(spec.name, "no_change", version, version, [])
        return PlanItem(spec.name, "update_metadata", version, version, changes)

    def apply(self, specs: Sequence[FeatureGroupSpec], *, dry_run: bool = False) -> list[PlanItem]:
        """Make the stored definitions match ``specs``; idempotent. Returns the plan it applied.

        The whole plan is computed (and checked) before anything is written.

        Raises:
            ConflictError: a definition would rewrite an existing version, or another writer
                changed the group meanwhile (nothing of that group is written).
            PermissionDeniedError: the principal may not apply feature groups.
        """
        for spec in specs:
            self._check("apply", spec.name)
        items = self.plan(specs)
        if dry_run:
            return items
        now = self._clock().isoformat()
        for spec, item in zip(specs, items, strict=True):
            if item.action == "no_change":
                continue
            meta = spec.metadata_dict()
            if item.action == "update_metadata":
                header = self._records.get(_ROOT, f"group/{spec.name}")
                self._records.put(
                    {**header, **meta, "updated_at": now},
                    expect={"latest_version": header["latest_version"]},
                )
                continue
            version_item: Record = {
                "pk": _group_pk(spec.name),
                "sk": f"version/{item.version:06d}",
                "spec": spec.model_copy(update={"version": item.version}).to_dict(),
                "fingerprint": spec.fingerprint(),
                "created_at": now,
                "created_by": self._who,
            }
            header_item: Record = {
                "pk": _ROOT,
                "sk": f"group/{spec.name}",
                "name": spec.name,
                "latest_version": item.version,
                **meta,
                "updated_at": now,
            }
            if item.action == "create":
                header_item.update(created_at=now, created_by=self._who)
                header_put = Put(header_item, if_absent=True)
            else:
                old = self._records.get(_ROOT, f"group/{spec.name}")
                header_item.update(created_at=old["created_at"], created_by=old["created_by"])
                header_put = Put(header_item, expect={"latest_version": item.previous_version})
            try:
                self._records.transact([Put(version_item, if_absent=True), header_put])
            except ConflictError as exc:
                raise ConflictError(
                    f"feature group {spec.name!r} changed while applying (another writer?)",
                    hint="run `modelyard features apply` again to see the new plan",
                ) from exc
        return items

    def list_groups(self) -> list[dict[str, Any]]:
        """Every feature group with its latest version and metadata."""
        self._guard.check("features.list", "feature_group/*")
        return [
            {k: v for k, v in rec.items() if k not in ("pk", "sk")}
            for rec in self._records.query(_ROOT, prefix="group/")
        ]

    def _header(self, name: str) -> Record:
        validate_name("feature group", name)
        header = self._records.find(_ROOT, f"group/{name}")
        if header is None:
            known = [r["name"] for r in self._records.query(_ROOT, prefix="group/", limit=20)]
            raise FeatureGroupNotFoundError(
                f"no feature group {name!r}"
                + (f"; known groups: {', '.join(known)}" if known else "; none is defined yet"),
                hint="run `modelyard features list`, or define it with `modelyard features apply`",
            )
        return header

    def get_group(self, name: str) -> dict[str, Any]:
        """The group's header (metadata, latest version) and its latest spec.

        Raises:
            FeatureGroupNotFoundError: no such group.
        """
        self._check("read", name)
        header = self._header(name)
        latest = self.get_version(name, int(header["latest_version"]), _checked=True)
        body = {k: v for k, v in header.items() if k not in ("pk", "sk")}
        body["spec"] = latest.spec.to_dict()
        body["fingerprint"] = latest.fingerprint
        return body

    def get_version(
        self, name: str, version: int | None = None, *, _checked: bool = False
    ) -> FeatureGroupVersion:
        """One version (default: the latest).

        Raises:
            FeatureGroupNotFoundError: no such group or version.
        """
        if not _checked:
            self._check("read", name)
        header = self._header(name)
        latest = int(header["latest_version"])
        number = latest if version is None else int(version)
        rec = self._records.find(_group_pk(name), f"version/{number:06d}")
        if rec is None:
            raise FeatureGroupNotFoundError(
                f"feature group {name!r} has no version {number}; latest is {latest}",
                hint=f"run `modelyard features versions {name}`",
            )
        return _to_version(name, rec)

    def list_versions(self, name: str) -> list[FeatureGroupVersion]:
        """Every version of a group, oldest first."""
        self._check("read", name)
        self._header(name)
        return [
            _to_version(name, rec)
            for rec in self._records.query(_group_pk(name), prefix="version/")
        ]

    def pin(self, refs: Sequence[str]) -> list[FeaturePin]:
        """Pins for ``refs`` (``group`` = latest, ``group:vN``), to store with a model version."""
        pins = []
        for ref in refs:
            name, number = parse_ref(ref)
            ver = self.get_version(name, number)
            pins.append(FeaturePin(name, ver.version, ver.fingerprint))
        return pins

    def resolve_pins(self, pins: Iterable[FeaturePin | dict[str, Any]]) -> list[FeaturePin]:
        """Check that pins (e.g. read from a model version) still name the same schemas.

        Raises:
            FeatureGroupNotFoundError: a pinned group or version is gone.
            ConflictError: a pinned version's fingerprint differs (it was tampered with).
        """
        out = []
        for pin in pins:
            p = pin if isinstance(pin, FeaturePin) else FeaturePin(**pin)
            ver = self.get_version(p.group, p.version)
            if ver.fingerprint != p.fingerprint:
                raise ConflictError(
                    f"pinned {p.ref} has fingerprint {p.fingerprint[:12]}…, the store has "
                    f"{ver.fingerprint[:12]}…",
                    hint="the stored version was altered; restore it from a backup",
                )
            out.append(p)
        return out

    # -- ingestion ---------------------------------------------------------------------------
    def ingest(
        self,
        name: str,
        data: FrameLike,
        *,
        version: int | None = None,
        source: str | None = None,
    ) -> Ingestion:
        """Check and append rows to a group version's offline store, all or nothing.

        Args:
            data: a Polars or pandas frame, or a path to a ``.parquet``/``.csv`` file.
            version: default the latest; only the latest version accepts new rows (older
                versions are frozen so they keep returning what they returned).
            source: a label kept with the ingestion (default: the file name or "frame").

        Raises:
            FeatureGroupNotFoundError: no such group/version.
            ConflictError: ``version`` is not the latest.
            InvalidInputError: unreadable file, missing columns, no rows.
            SchemaViolationError: rows that break the schema, named; nothing is written.
        """
        self._check("ingest", name)
        header = self._header(name)
        ver = self.get_version(name, version, _checked=True)
        latest = int(header["latest_version"])
        if ver.version != latest:
            raise ConflictError(
                f"feature group {name!r} v{ver.version} is frozen: v{latest} is the latest, and "
                "an older version must keep returning what it returned",
                hint=f"ingest into v{latest} (leave --version out)",
            )
        frame, label = _read_input(data, ver.spec, source)
        if frame.height == 0:
            raise InvalidInputError(f"{label} has no rows; nothing to ingest")
        rows = conform(frame, ver.spec, source=label)
        return self._append(ver, rows, label)

    def _append(self, ver: FeatureGroupVersion, rows: pl.DataFrame, label: str) -> Ingestion:
        pk = _version_pk(ver.name, ver.version)
        reserved: Record | None = None
        for _ in range(50):
            last = next(
                iter(self._records.query(pk, prefix="ingest/", reverse=True, limit=1)), None
            )
            seq = 1 if last is None else int(last["seq"]) + 1
            now = self._clock()
            if last is not None:
                floor = datetime.fromisoformat(last["ingested_at"]) + timedelta(microseconds=1)
                now = max(now, floor)
            reserved = {
                "pk": pk,
                "sk": f"ingest/{seq:08d}",
                "seq": seq,
                "status": "pending",
                "key": partition_key(ver.name, ver.version, seq),
                "ingested_at": now.isoformat(),
                "ingested_by": self._who,
                "source": label,
            }
            try:
                self._records.put(reserved, if_absent=True)
                break
            except RecordExistsError:
                continue
        else:  # pragma: no cover -- 50 lost races in a row
            raise ConflictError(f"could not reserve an ingestion slot for {ver.name!r}")
        assert reserved is not None
        ingested_at = datetime.fromisoformat(reserved["ingested_at"])
        try:
            frame = rows.with_columns(
                pl.lit(ingested_at).cast(pl.Datetime("us", "UTC")).alias(INGESTED_AT)
            )
            sha256, size = self._offline.write(reserved["key"], frame)
            span = rows.select(
                pl.col(ver.spec.event_time).min().alias("lo"),
                pl.col(ver.spec.event_time).max().alias("hi"),
            ).row(0)
            committed = {
                **reserved,
                "status": "committed",
                "rows": rows.height,
                "sha256": sha256,
                "size_bytes": size,
                "min_event_time": span[0].isoformat(),
                "max_event_time": span[1].isoformat(),
            }
            self._records.put(committed, expect={"status": "pending"})
        except BaseException:
            self._records.put({**reserved, "status": "failed"})
            raise
        return _to_ingestion(ver.name, ver.version, committed)

    def ingestions(
        self, name: str, version: int | None = None, *, as_of: datetime | None = None
    ) -> list[Ingestion]:
        """The committed ingestions of a version, oldest first (optionally up to ``as_of``)."""
        self._check("read", name)
        ver = self.get_version(name, version, _checked=True)
        return self._committed(ver, as_of=as_of)

    def _committed(
        self, ver: FeatureGroupVersion, *, as_of: datetime | None = None, after: int = 0
    ) -> list[Ingestion]:
        out = []
        for rec in self._records.query(_version_pk(ver.name, ver.version), prefix="ingest/"):
            if rec["status"] != "committed" or int(rec["seq"]) <= after:
                continue
            ing = _to_ingestion(ver.name, ver.version, rec)
            if as_of is not None and ing.ingested_at > _aware(as_of):
                continue
            out.append(ing)
        return out

    # -- offline retrieval -------------------------------------------------------------------
    def scan(
        self, name: str, version: int | None = None, *, as_of: datetime | None = None
    ) -> pl.LazyFrame:
        """Every stored row of a version (with ``ingested_at``), lazily; ``as_of`` limits it to
        what had been ingested by then (reproducible reads)."""
        self._check("read", name)
        ver = self.get_version(name, version, _checked=True)
        return self._scan(ver, as_of)

    def _scan(self, ver: FeatureGroupVersion, as_of: datetime | None) -> pl.LazyFrame:
        return self._offline.scan(ver.spec, self._committed(ver, as_of=as_of))

    def read_range(
        self,
        name: str,
        version: int | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        as_of: datetime | None = None,
        latest: bool = False,
        entity: Any = None,
    ) -> pl.DataFrame:
        """Rows with event time in ``[start, end)``, without an entity frame.

        Args:
            latest: one row per entity (its latest in the range) instead of every row.
            entity: only this entity key (a scalar, or a tuple for composite keys).
            as_of: only rows ingested at or before this time.

        Returns:
            keys, event time, features and ``ingested_at``, sorted by key then event time.
        """
        self._check("read", name)
        ver = self.get_version(name, version, _checked=True)
        spec = ver.spec
        lf = self._scan(ver, as_of)
        if start is not None:
            lf = lf.filter(pl.col(spec.event_time) >= _aware(start))
        if end is not None:
            lf = lf.filter(pl.col(spec.event_time) < _aware(end))
        if entity is not None:
            values = _key_values(spec, entity)
            for k, v in zip(spec.entity_key, values, strict=True):
                lf = lf.filter(pl.col(k) == v)
        if latest:
            lf = latest_per_entity(lf, spec)
        return lf.sort([*spec.entity_key, spec.event_time, INGESTED_AT]).collect()

    def get_historical_features(
        self,
        entities: FrameLike,
        groups: Sequence[str | FeaturePin],
        *,
        timestamp: str = "event_time",
        as_of: datetime | None = None,
        ttl: timedelta | None = None,
        full_names: bool = False,
        with_times: bool = False,
    ) -> pl.DataFrame:
        """Point-in-time-correct features for every row of ``entities``.

        For each row and group: the values with the greatest event time at or before the row's
        ``timestamp`` (ties: the later ingestion), null if none or older than the TTL.

        Args:
            entities: entity key columns plus ``timestamp`` (Polars or pandas frame).
            groups: ``"name"`` (latest), ``"name:vN"`` or FeaturePins.
            as_of: only what had been ingested by then (the same inputs, the same result).
            ttl: overrides each group's ``ttl_s``.
            full_names: prefix features with ``<group>__`` (needed when names clash).
            with_times: add ``<group>__event_time`` and ``<group>__ingested_at``.

        Raises:
            FeatureGroupNotFoundError, InvalidInputError.
        """
        frame = _to_polars(entities, "the entity frame")
        reads = []
        for ref in groups:
            name, number = (
                (ref.group, ref.version) if isinstance(ref, FeaturePin) else parse_ref(ref)
            )
            self._check("read", name)
            ver = self.get_version(name, number, _checked=True)
            group_ttl = ttl
            if group_ttl is None and ver.spec.ttl_s is not None:
                group_ttl = timedelta(seconds=ver.spec.ttl_s)
            reads.append(
                GroupRead(
                    spec=ver.spec,
                    frame=self._scan(ver, as_of),
                    features=tuple(ver.spec.feature_names),
                    ttl=group_ttl,
                    prefix=f"{name}__" if full_names else "",
                    with_times=with_times,
                )
            )
        return point_in_time_join(frame, reads, timestamp=timestamp)

    # -- online ------------------------------------------------------------------------------
    def materialize(
        self, name: str, version: int | None = None, *, full: bool = False
    ) -> Materialization:
        """Copy the latest values per entity from offline to online, incrementally.

        Only ingestions after the last materialized one are read; the online store keeps an
        item only if it is newer (event time, then ingestion time), so the result equals a
        full materialisation. ``full=True`` rebuilds the online table from every ingestion.
        """
        self._check("materialize", name)
        ver = self.get_version(name, version, _checked=True)
        started = time.perf_counter()
        pk = _version_pk(ver.name, ver.version)
        state = self._records.find(pk, "materialized")
        through = 0 if full or state is None else int(state["through_seq"])
        parts: list[Ingestion] = []
        for rec in self._records.query(pk, prefix="ingest/"):
            seq = int(rec["seq"])
            if seq <= through:
                continue
            if rec["status"] == "pending":
                started_at = datetime.fromisoformat(rec["ingested_at"])
                if self._clock() - started_at < _ABANDONED_AFTER:
                    break  # a later ingestion may not pass one still being written
                continue  # its writer died long ago: it will never commit
            if rec["status"] == "committed":
                parts.append(_to_ingestion(ver.name, ver.version, rec))
            through = seq
        if full:
            self._online.drop(ver.name, ver.version)
        written = rows_read = 0
        if parts:
            lf = self._offline.scan(ver.spec, parts)
            latest = latest_per_entity(lf, ver.spec)
            encoded = latest.select(
                encode_key_expr(ver.spec).alias("k"),
                pl.col(ver.spec.event_time).dt.epoch("us").alias("et"),
                pl.col(INGESTED_AT).dt.epoch("us").alias("it"),
                encode_value_expr(ver.spec).alias("v"),
            ).collect()
            rows_read = sum(p.rows for p in parts)
            written = self._online.put_many(ver.name, ver.version, encoded.iter_rows())
        now = self._clock()
        result = Materialization(
            ver.name,
            ver.version,
            0 if full or state is None else int(state["through_seq"]),
            through,
            len(parts),
            rows_read,
            written,
            now,
            time.perf_counter() - started,
        )
        self._records.put(
            {
                "pk": pk,
                "sk": "materialized",
                "through_seq": through,
                "materialized_at": now.isoformat(),
                "materialized_by": self._who,
            }
        )
        self._records.put({"pk": pk, "sk": f"matlog/{now.isoformat()}", **result.to_dict()})
        return result

    def online(self, name: str, version: int | None = None) -> OnlineReader:
        """A reader for real-time lookups of one group version.

        Authorization (and its audit entry) happens once, here; lookups through the reader
        are then as fast as the online store allows. Hold a reader per request handler.
        """
        self._check("read_online", name)
        ver = self.get_version(name, version, _checked=True)
        return OnlineReader(ver.spec, ver.version, self._online)

    def get_online(
        self, name: str, keys: Sequence[Any], version: int | None = None
    ) -> list[dict[str, Any] | None]:
        """Latest values for ``keys`` (None for an entity never materialized)."""
        return self.online(name, version).get_many(keys)

    def history(self, name: str, version: int | None = None) -> list[dict[str, Any]]:
        """The group's timeline: versions created, ingestions, materializations."""
        self._check("read", name)
        self._header(name)
        events: list[dict[str, Any]] = []
        versions = self.list_versions(name)
        for ver in versions:
            events.append(
                {
                    "time": ver.created_at.isoformat(),
                    "event": "version_created",
                    "version": ver.version,
                    "by": ver.created_by,
                    "fingerprint": ver.fingerprint,
                }
            )
        for ver in versions:
            if version is not None and ver.version != version:
                continue
            for rec in self._records.query(_version_pk(name, ver.version)):
                if rec["sk"].startswith("ingest/"):
                    events.append(
                        {
                            "time": rec["ingested_at"],
                            "event": f"ingestion_{rec['status']}",
                            "version": ver.version,
                            "by": rec["ingested_by"],
                            "seq": rec["seq"],
                            "rows": rec.get("rows"),
                            "source": rec["source"],
                        }
                    )
                elif rec["sk"].startswith("matlog/"):
                    events.append(
                        {
                            "time": rec["materialized_at"],
                            "event": "materialized",
                            "version": ver.version,
                            "through_seq": rec["through_seq"],
                            "entities_written": rec["entities_written"],
                        }
                    )
        events.sort(key=lambda e: e["time"])
        return events


class OnlineReader:
    """Real-time lookups of one feature group version (see ``FeatureService.online``)."""

    def __init__(self, spec: FeatureGroupSpec, version: int, store: OnlineStore) -> None:
        self.spec = spec
        self.name = spec.name
        self.version = version
        self._store = store
        self._int_key = spec.key_types[0] is FeatureType.INT64
        self._composite = len(spec.entity_key) > 1
        self._datetimes = [f.name for f in spec.features if f.dtype is FeatureType.DATETIME]

    def encode_key(self, key: Any) -> str:
        """The online key string of an entity key (a scalar, or a tuple for composite keys)."""
        if not self._composite:
            if isinstance(key, tuple | list):
                if len(key) != 1:
                    raise InvalidInputError(
                        f"group {self.name!r} has one key column, got {len(key)} values"
                    )
                key = key[0]
            if self._int_key:
                return str(_as_int(key, self.spec.entity_key[0]))
            return str(key)
        return _KEY_SEP.join(str(v) for v in _key_values(self.spec, key))

    def _decode(self, text: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(text)
        if self._datetimes:
            self._fix_datetimes(value)
        return value

    def _fix_datetimes(self, value: dict[str, Any]) -> None:
        for name in self._datetimes:
            if value[name] is not None:
                value[name] = _from_micros(value[name])

    def get(self, key: Any) -> dict[str, Any]:
        """The feature values of one entity.

        Raises:
            EntityNotFoundError: the entity has no online value (unknown or not materialized).
        """
        text = self._store.get_many(self.name, self.version, [self.encode_key(key)])[0]
        if text is None:
            raise EntityNotFoundError(
                f"feature group {self.name!r} v{self.version} has no online value for entity "
                f"{key!r}"
            )
        return self._decode(text)

    def get_many(self, keys: Sequence[Any]) -> list[dict[str, Any] | None]:
        """Feature values per key, in order; None for an entity without an online value."""
        encoded = [self.encode_key(k) for k in keys]
        texts = self._store.get_many(self.name, self.version, encoded)
        # one json.loads over all values: a single parser call instead of one per entity
        decoded: list[dict[str, Any] | None] = json.loads(
            "[" + ",".join("null" if t is None else t for t in texts) + "]"
        )
        if self._datetimes:
            for value in decoded:
                if value is not None:
                    self._fix_datetimes(value)
        return decoded


# -- helpers ----------------------------------------------------------------------------------
def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"group"`` -> (group, None); ``"group:v3"`` or ``"group:3"`` -> (group, 3)."""
    name, _, ver = ref.partition(":")
    if not ver:
        return name, None
    digits = ver[1:] if ver.lower().startswith("v") else ver
    if not digits.isdigit() or int(digits) < 1:
        raise InvalidInputError(
            f"feature group reference {ref!r} is not valid",
            hint="use NAME (latest version) or NAME:vN, e.g. encounters:v2",
        )
    return name, int(digits)


def encode_key_expr(spec: FeatureGroupSpec) -> pl.Expr:
    """The online key string, vectorised (must match ``OnlineReader.encode_key``)."""
    parts = [pl.col(k).cast(pl.String) for k in spec.entity_key]
    return parts[0] if len(parts) == 1 else pl.concat_str(parts, separator=_KEY_SEP)


def encode_value_expr(spec: FeatureGroupSpec) -> pl.Expr:
    """One JSON object of the features per row (datetimes as UTC microseconds)."""
    cols = [
        pl.col(f.name).dt.epoch("us") if f.dtype is FeatureType.DATETIME else pl.col(f.name)
        for f in spec.features
    ]
    return pl.struct(cols).struct.json_encode()


def _as_int(value: Any, column: str) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"entity key {column!r} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidInputError(
            f"entity key {column!r} must be an integer, got {value!r}",
            hint="pass the key as it was ingested",
        ) from None


def _key_values(spec: FeatureGroupSpec, key: Any) -> list[Any]:
    values = list(key) if isinstance(key, tuple | list) else [key]
    if len(values) != len(spec.entity_key):
        raise InvalidInputError(
            f"feature group {spec.name!r} is keyed by {list(spec.entity_key)}; "
            f"got {len(values)} value(s): {key!r}",
            hint="give one value per key column (comma-separated on the command line)",
        )
    return [
        _as_int(v, c) if t is FeatureType.INT64 else str(v)
        for v, c, t in zip(values, spec.entity_key, spec.key_types, strict=True)
    ]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_polars(data: Any, label: str) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if type(data).__module__.startswith("pandas"):
        try:
            frame: pl.DataFrame = pl.from_pandas(data)
            return frame
        except Exception as exc:
            raise InvalidInputError(f"{label} cannot be converted from pandas: {exc}") from exc
    raise InvalidInputError(
        f"{label} must be a Polars or pandas DataFrame, got {type(data).__name__}"
    )


def _read_input(
    data: FrameLike, spec: FeatureGroupSpec, source: str | None
) -> tuple[pl.DataFrame, str]:
    if not isinstance(data, str | Path):
        return _to_polars(data, "the input frame"), source or "frame"
    path = Path(data)
    label = source or path.name
    if not path.is_file():
        raise InvalidInputError(f"file {str(path)!r} does not exist or is not a file")
    suffix = path.suffix.lower()
    declared = {*spec.entity_key, spec.event_time, *(f.name for f in spec.features)}
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path), label
        if suffix in (".csv", ".txt"):
            header = pl.read_csv(path, n_rows=0).columns
            overrides = {c: pl.String for c in header if c in declared}
            return (
                pl.read_csv(path, schema_overrides=overrides, infer_schema_length=None),
                label,
            )
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInputError(f"cannot read {str(path)!r}: {first}") from exc
    raise InvalidInputError(
        f"file {str(path)!r} is neither Parquet nor CSV", hint="use a .parquet or .csv file"
    )


def _to_version(name: str, rec: Record) -> FeatureGroupVersion:
    spec = FeatureGroupSpec.model_validate(rec["spec"])
    return FeatureGroupVersion(
        name=name,
        version=int(rec["sk"].split("/")[1]),
        spec=spec,
        fingerprint=rec["fingerprint"],
        created_at=datetime.fromisoformat(rec["created_at"]),
        created_by=rec["created_by"],
    )


def _to_ingestion(name: str, version: int, rec: Record) -> Ingestion:
    return Ingestion(
        name=name,
        version=version,
        seq=int(rec["seq"]),
        key=rec["key"],
        rows=int(rec.get("rows") or 0),
        sha256=rec.get("sha256", ""),
        size_bytes=int(rec.get("size_bytes") or 0),
        ingested_at=datetime.fromisoformat(rec["ingested_at"]),
        ingested_by=rec["ingested_by"],
        source=rec["source"],
        min_event_time=_parse_time(rec.get("min_event_time")),
        max_event_time=_parse_time(rec.get("max_event_time")),
    )


def _schema_changes(old: FeatureGroupSpec, new: FeatureGroupSpec) -> list[str]:
    changes = []
    if old.entity_key != new.entity_key or old.key_types != new.key_types:
        changes.append(f"entity key {list(old.entity_key)} -> {list(new.entity_key)}")
    if old.event_time != new.event_time:
        changes.append(f"event_time {old.event_time!r} -> {new.event_time!r}")
    before = {f.name: f for f in old.features}
    after = {f.name: f for f in new.features}
    changes += [f"+ feature {n}" for n in after if n not in before]
    changes += [f"- feature {n}" for n in before if n not in after]
    for n in after.keys() & before.keys():
        a, b = before[n], after[n]
        if a.dtype != b.dtype:
            changes.append(f"~ feature {n}: {a.dtype.value} -> {b.dtype.value}")
        if a.expr != b.expr:
            changes.append(f"~ feature {n}: expr {a.expr!r} -> {b.expr!r}")
        if a.nullable != b.nullable:
            changes.append(f"~ feature {n}: nullable {a.nullable} -> {b.nullable}")
    if [f.name for f in old.features] != [f.name for f in new.features] and not changes:
        changes.append("feature order changed")
    return changes
