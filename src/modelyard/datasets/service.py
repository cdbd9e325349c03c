"""Dataset use cases: add, list, load, validate, summarise, profile, anomalies, approve, compare.

Record layout (RecordStore, documented in docs/datasets.md)::

    ("datasets", NAME)                          the dataset index (name, created_at/by)
    ("dataset#NAME", "v#00000001")              one immutable DatasetVersion
    ("dataset#NAME", "hash#SHA256")             content hash -> version (dedupe)
    ("dataset#NAME", "schema")                  the declared schema
    ("dataset#NAME", "approval#00000001#TIME")  approval decisions (latest counts)
    ("dataset#NAME", "summary#00000001")        blob ref of the cached column summary JSON
    ("dataset#NAME", "source#SHA256#OPTS")      source bytes + read options -> version (shortcut)
    ("lineage#dataset#NAME", "00000001#MODEL#00000003")  models trained on a version
    ("lineage#model#MODEL", "00000003#NAME#00000001")    and the other way round

The data itself is one canonical Parquet file per version in the ContentStore (sha256-keyed,
verified on every read); ``content_hash`` is its sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from modelyard.access import AccessGuard
from modelyard.datasets import anomalies as anomaly_rules
from modelyard.datasets.model import (
    Anomaly,
    Approval,
    DatasetVersion,
    ModelLink,
    ReadOptions,
)
from modelyard.datasets.reading import logical_type, read_table
from modelyard.datasets.rules import DatasetSchema, Violation, coerce, validate
from modelyard.errors import (
    ConflictError,
    DatasetNotFoundError,
    InvalidInputError,
    RecordExistsError,
    SchemaViolationError,
)
from modelyard.quality.columns import FrameSummary
from modelyard.storage.blobs import BlobRef, ContentStore, sha256_file
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, RecordStore

if TYPE_CHECKING:
    from modelyard.quality.drift import DriftConfig

__all__ = ["AddResult", "DatasetService", "ModelLinkSource"]

_INDEX = "datasets"
_MAX_ATTEMPTS = 50


def _pk(name: str) -> str:
    return f"dataset#{name}"


def _vsk(version: int) -> str:
    return f"v#{version:08d}"


class ModelLinkSource(Protocol):
    """Where model -> dataset lineage comes from (the model registry, when it exists)."""

    def models_trained_on(self, dataset: str, version: int) -> list[ModelLink]: ...


@dataclass(frozen=True)
class AddResult:
    """What ``add_file`` did: the version, and whether it was new."""

    version: DatasetVersion
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {**self.version.to_dict(), "created": self.created}


class DatasetService:
    """Datasets and their immutable, content-addressed versions.

    Args:
        records: the metadata store.
        content: content-addressed blobs (the Parquet data, cached summaries).
        guard: authorizes and audits every call (``datasets.<verb>`` on ``dataset/NAME``).
        principal: who acts (recorded as creator/approver).
        approved_only: production loads accept approved versions only.
        model_links: optional lineage source (the model registry); falls back to link
            records written with ``link_model``.
        clock: the time source (tests pass a fixed clock).
    """

    def __init__(
        self,
        records: RecordStore,
        content: ContentStore,
        guard: AccessGuard,
        *,
        principal: str,
        approved_only: bool = False,
        model_links: ModelLinkSource | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._records = records
        self._content = content
        self._guard = guard
        self._principal = principal
        self._approved_only = approved_only
        self._model_links = model_links
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- add -------------------------------------------------------------------------------
    def add(
        self,
        path: str | Path,
        *,
        name: str,
        missing_tokens: Sequence[str] | None = None,
        keep_values: Sequence[str] = (),
        dtypes: Mapping[str, str] | None = None,
        member: str | None = None,
        separator: str = ",",
        schema: DatasetSchema | None = None,
        description: str = "",
        tags: Sequence[str] = (),
        source: str | None = None,
        attribution: Mapping[str, Any] | None = None,
    ) -> DatasetVersion:
        """Validate and store a file as a new version (or return the identical existing one).

        Args:
            path: a CSV, gzip-compressed CSV, zip holding a CSV, or Parquet file.
            name: the dataset name (letters, digits, ``._-``).
            missing_tokens: values meaning "missing" (default: the empty string only).
            keep_values: values that are categories, never missing (e.g. ``"None"``).
            dtypes: column -> type overrides (``str``, ``int``, ``float``, ``bool``, ``date``…).
            member: the CSV inside a zip that holds several.
            separator: CSV separator.
            schema: a declared schema; it becomes the dataset's schema. Without it, the
                dataset's stored schema (if any) is checked.
            description, tags: free metadata.
            source: where the data came from (default: the path).
            attribution: source, licence, citation, retrieval time, checksum (imports).

        Returns:
            The new version, or the existing one holding identical content.

        Raises:
            InvalidInputError: an unreadable or malformed file, a bad name or option.
            SchemaViolationError: the data breaks the declared schema (every violation listed);
                nothing is written.
        """
        return self.add_file(
            path,
            name=name,
            missing_tokens=missing_tokens,
            keep_values=keep_values,
            dtypes=dtypes,
            member=member,
            separator=separator,
            schema=schema,
            description=description,
            tags=tags,
            source=source,
            attribution=attribution,
        ).version

    def add_file(
        self,
        path: str | Path,
        *,
        name: str,
        missing_tokens: Sequence[str] | None = None,
        keep_values: Sequence[str] = (),
        dtypes: Mapping[str, str] | None = None,
        member: str | None = None,
        separator: str = ",",
        schema: DatasetSchema | None = None,
        description: str = "",
        tags: Sequence[str] = (),
        source: str | None = None,
        attribution: Mapping[str, Any] | None = None,
    ) -> AddResult:
        """Like ``add``, and also says whether the version was created (see ``add``)."""
        validate_name("dataset", name)
        for tag in tags:
            validate_name("tag", tag)
        self._guard.check("datasets.add", f"dataset/{name}")
        path = Path(path)
        declared = schema if schema is not None else self.find_schema(name)
        read_dtypes = dict(dtypes or {})
        options = ReadOptions(
            missing_tokens=tuple(missing_tokens) if missing_tokens is not None else ("",),
            keep_values=tuple(keep_values),
            dtypes=read_dtypes,
            member=member,
            separator=separator,
        )
        with tempfile.TemporaryDirectory(prefix="modelyard-add-") as scratch_dir:
            scratch = Path(scratch_dir)
            source_sha, source_size = sha256_file(path) if path.is_file() else ("", 0)
            source_key = _source_key(source_sha, options, declared)
            known = self._records.find(_pk(name), source_key) if source_sha else None
            if known is not None:
                # the same bytes read the same way were added before: no need to parse again
                found = self._records.find(_pk(name), _vsk(int(known["version"])))
                if found is not None:
                    return AddResult(DatasetVersion.from_dict(found), created=False)
            result = read_table(path, options, scratch, _text_columns(declared))
            frame = result.frame
            if declared is not None:
                problems = validate(frame, declared)
                if problems:
                    raise _violation_error(str(path), problems)
                frame = coerce(frame, declared)
            canonical = scratch / "canonical.parquet"
            frame.write_parquet(canonical, compression="zstd", statistics=True)
            content_hash, size = sha256_file(canonical)
            existing = self._version_by_hash(name, content_hash)
            if existing is not None:
                self._remember_source(name, source_key, existing.version)
                return AddResult(existing, created=False)
            ref = self._content.put_file(canonical)
        if schema is not None:
            self._records.put({"pk": _pk(name), "sk": "schema", "schema": schema.to_dict()})
        options = ReadOptions(
            missing_tokens=options.missing_tokens,
            keep_values=options.keep_values,
            dtypes=read_dtypes,
            member=result.member,
            separator=separator,
        )
        added = self._allocate(
            name,
            lambda number: DatasetVersion(
                name=name,
                version=number,
                content_hash=ref.sha256,
                size_bytes=size,
                format=result.format,
                schema={c: logical_type(t) for c, t in frame.schema.items()},
                rows=frame.height,
                columns=frame.width,
                source=source or str(path.resolve()),
                source_sha256=source_sha,
                source_size_bytes=source_size,
                created_by=self._principal,
                created_at=self._clock(),
                description=description,
                tags=tuple(tags),
                read_options=options,
                attribution=dict(attribution) if attribution else None,
            ),
        )
        self._remember_source(name, source_key, added.version.version)
        return added

    def _remember_source(self, name: str, source_key: str, version: int) -> None:
        self._records.put({"pk": _pk(name), "sk": source_key, "version": version})

    def _allocate(self, name: str, build: Callable[[int], DatasetVersion]) -> AddResult:
        """Take the next version number; concurrent writers retry, identical content dedupes."""
        for _ in range(_MAX_ATTEMPTS):
            latest = self._latest_number(name)
            version = build(latest + 1)
            existing = self._version_by_hash(name, version.content_hash)
            if existing is not None:
                return AddResult(existing, created=False)
            writes = [
                Put({"pk": _pk(name), "sk": _vsk(version.version), **version.to_dict()}, True),
                Put(
                    {
                        "pk": _pk(name),
                        "sk": f"hash#{version.content_hash}",
                        "version": version.version,
                    },
                    True,
                ),
            ]
            if latest == 0 and self._records.find(_INDEX, name) is None:
                writes.append(
                    Put(
                        {
                            "pk": _INDEX,
                            "sk": name,
                            "name": name,
                            "created_at": version.created_at.isoformat(),
                            "created_by": self._principal,
                        },
                        True,
                    )
                )
            try:
                self._records.transact(writes)
            except (RecordExistsError, ConflictError):
                continue
            return AddResult(version, created=True)
        raise ConflictError(
            f"could not allocate a version of dataset {name!r} after {_MAX_ATTEMPTS} attempts",
            hint="too many concurrent writers; try again",
        )

    # -- read ------------------------------------------------------------------------------
    def list_datasets(self) -> list[dict[str, Any]]:
        """Every dataset with its latest version's key facts and approval status."""
        self._guard.check("datasets.list", "dataset/*")
        out = []
        for item in self._records.query(_INDEX):
            latest = self._latest(item["name"])
            if latest is None:
                continue
            out.append(
                {
                    "name": item["name"],
                    "versions": latest.version,
                    "latest": latest.version,
                    "rows": latest.rows,
                    "columns": latest.columns,
                    "content_hash": latest.content_hash,
                    "status": self._status(item["name"], latest.version),
                    "created_at": latest.created_at.isoformat(),
                }
            )
        return out

    def versions(self, name: str) -> list[DatasetVersion]:
        """All versions of ``name``, oldest first.

        Raises:
            DatasetNotFoundError: no such dataset.
        """
        validate_name("dataset", name)
        self._guard.check("datasets.read", f"dataset/{name}")
        found = [
            DatasetVersion.from_dict(item) for item in self._records.query(_pk(name), prefix="v#")
        ]
        if not found:
            raise self._not_found(name)
        return found

    def get(self, name: str, version: int | str | None = None) -> DatasetVersion:
        """One version: a number, ``latest`` (default) or ``approved`` (newest approved).

        Raises:
            DatasetNotFoundError: no such dataset or version.
        """
        validate_name("dataset", name)
        self._guard.check("datasets.read", f"dataset/{name}")
        return self._resolve(name, version)

    def status(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """The approval status of a version and its decision history."""
        resolved = self.get(name, version)
        history = self._approvals(name, resolved.version)
        return {
            "name": name,
            "version": resolved.version,
            "status": history[-1].status if history else "pending",
            "history": [a.to_dict() for a in history],
        }

    def load(
        self, name: str, version: int | str | None = None, *, production: bool = False
    ) -> pl.DataFrame:
        """The data of a version as a Polars DataFrame (checksum verified).

        Args:
            name: dataset name.
            version: number, ``latest`` or ``approved``.
            production: a production training load; with the ``approved_only`` setting the
                version must be approved.

        Raises:
            DatasetNotFoundError: no such dataset or version.
            ConflictError: ``production`` under ``approved_only`` and the version is not approved.
            ChecksumMismatchError: the stored data was altered.
        """
        resolved = self.get(name, version)
        if production and self._approved_only:
            status = self._status(name, resolved.version)
            if status != "approved":
                raise ConflictError(
                    f"dataset {resolved.ref} is {status}; production training accepts approved "
                    "versions only (setting approved_only)",
                    hint=f"approve it: `modelyard datasets approve {resolved.ref}`, or load "
                    f"`{name}@approved`",
                )
        return self._frame(resolved)

    def _frame(self, version: DatasetVersion) -> pl.DataFrame:
        data = self._content.get(BlobRef(version.content_hash, version.size_bytes))
        return pl.read_parquet(io.BytesIO(data))

    # -- schema and validation -----------------------------------------------------------------
    def find_schema(self, name: str) -> DatasetSchema | None:
        """The declared schema of ``name``, or None."""
        validate_name("dataset", name)
        item = self._records.find(_pk(name), "schema")
        return DatasetSchema.from_dict(item["schema"]) if item else None

    def set_schema(self, name: str, schema: DatasetSchema) -> None:
        """Declare the schema future versions of ``name`` must satisfy."""
        validate_name("dataset", name)
        self._guard.check("datasets.schema", f"dataset/{name}")
        self._records.put({"pk": _pk(name), "sk": "schema", "schema": schema.to_dict()})

    def validate_file(
        self,
        path: str | Path,
        *,
        schema: DatasetSchema | None = None,
        name: str | None = None,
        missing_tokens: Sequence[str] | None = None,
        keep_values: Sequence[str] = (),
        dtypes: Mapping[str, str] | None = None,
        member: str | None = None,
        separator: str = ",",
    ) -> list[Violation]:
        """Read a file and check it against a schema (given, or ``name``'s); store nothing.

        Raises:
            InvalidInputError: the file cannot be read.
        """
        self._guard.check("datasets.validate", f"dataset/{name or '*'}")
        declared = schema if schema is not None else (self.find_schema(name) if name else None)
        read_dtypes = dict(dtypes or {})
        options = ReadOptions(
            missing_tokens=tuple(missing_tokens) if missing_tokens is not None else ("",),
            keep_values=tuple(keep_values),
            dtypes=read_dtypes,
            member=member,
            separator=separator,
        )
        with tempfile.TemporaryDirectory(prefix="modelyard-validate-") as scratch:
            frame = read_table(Path(path), options, Path(scratch), _text_columns(declared)).frame
        return validate(frame, declared) if declared is not None else []

    def validate_version(
        self, name: str, version: int | str | None = None, schema: DatasetSchema | None = None
    ) -> list[Violation]:
        """Check a stored version against a schema (given, or the dataset's declared one)."""
        resolved = self.get(name, version)
        declared = schema if schema is not None else self.find_schema(name)
        if declared is None:
            return []
        return validate(self._frame(resolved), declared)

    # -- approval --------------------------------------------------------------------------
    def approve(self, name: str, version: int | str, comment: str = "") -> Approval:
        """Approve a version (who, when and why are recorded)."""
        return self._decide(name, version, "approved", comment)

    def reject(self, name: str, version: int | str, comment: str = "") -> Approval:
        """Reject a version (who, when and why are recorded)."""
        return self._decide(name, version, "rejected", comment)

    def _decide(self, name: str, version: int | str, status: str, comment: str) -> Approval:
        validate_name("dataset", name)
        verb = "approve" if status == "approved" else "reject"
        self._guard.check(f"datasets.{verb}", f"dataset/{name}")
        resolved = self._resolve(name, version)
        approval = Approval(name, resolved.version, status, self._principal, self._clock(), comment)
        sk = f"approval#{resolved.version:08d}#{approval.at.isoformat()}#{uuid.uuid4().hex[:8]}"
        self._records.put({"pk": _pk(name), "sk": sk, **approval.to_dict()}, if_absent=True)
        return approval

    def _approvals(self, name: str, version: int) -> list[Approval]:
        return [
            Approval.from_dict(item)
            for item in self._records.query(_pk(name), prefix=f"approval#{version:08d}#")
        ]

    def _status(self, name: str, version: int) -> str:
        history = self._approvals(name, version)
        return history[-1].status if history else "pending"

    # -- statistics, profile, anomalies, comparison ------------------------------------------
    def _frame_summary(
        self, version: DatasetVersion, frame: pl.DataFrame | None = None
    ) -> FrameSummary:
        """The column statistics of a version, computed once and cached as a JSON blob."""
        key = f"summary#{version.version:08d}"
        cached = self._records.find(_pk(version.name), key)
        if cached is not None and cached.get("content_hash") == version.content_hash:
            ref = BlobRef(cached["sha256"], cached["size_bytes"])
            if self._content.exists(ref):
                return FrameSummary.from_dict(json.loads(self._content.get(ref)))
        from modelyard.datasets import profile as profiling

        summary = profiling.frame_summary(frame if frame is not None else self._frame(version))
        ref = self._content.put(json.dumps(summary.to_dict(include_state=True)).encode())
        self._records.put(
            {
                "pk": _pk(version.name),
                "sk": key,
                "content_hash": version.content_hash,
                **ref.to_dict(),
            }
        )
        return summary

    def summary(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """Per-column statistics of a version (computed once, then cached).

        Every column gets type, count, missing, distinct; numbers min, max, mean, std,
        quantiles and a histogram; categories the top-k frequencies plus the rest.
        """
        resolved = self.get(name, version)
        self._guard.check("datasets.profile", f"dataset/{name}")
        from modelyard.datasets import profile as profiling

        body = profiling.present(self._frame_summary(resolved), resolved.schema)
        return {"dataset": resolved.ref, "version": resolved.version, **body}

    def profile(self, name: str, version: int | str | None = None) -> dict[str, Any]:
        """Summary plus correlations and the missing-value overview (JSON-able)."""
        resolved = self.get(name, version)
        self._guard.check("datasets.profile", f"dataset/{name}")
        frame = self._frame(resolved)
        from modelyard.datasets import profile as profiling

        body = profiling.build_profile(frame, self._frame_summary(resolved, frame), resolved.schema)
        return {"dataset": resolved.ref, "version": resolved.version, **body}

    def profile_html(self, name: str, version: int | str | None = None) -> str:
        """The profile as a small self-contained HTML page (inline SVG, no rows)."""
        resolved = self.get(name, version)
        from modelyard.datasets import profile as profiling

        return profiling.render_html(self.profile(name, resolved.version), resolved.to_dict())

    def anomalies(
        self,
        name: str,
        version: int | str | None = None,
        *,
        options: anomaly_rules.AnomalyOptions | None = None,
    ) -> list[Anomaly]:
        """Missing values, duplicates, schema violations, outliers, unseen categories."""
        resolved = self.get(name, version)
        self._guard.check("datasets.profile", f"dataset/{name}")
        frame = self._frame(resolved)
        previous = self._previous_approved(name, resolved.version)
        from modelyard.datasets import profile as profiling

        return anomaly_rules.detect(
            frame,
            options=options,
            schema=self.find_schema(name),
            fences=profiling.fences(self._frame_summary(resolved, frame)),
            previous=self._frame(previous) if previous is not None else None,
        )

    def _previous_approved(self, name: str, version: int) -> DatasetVersion | None:
        for item in self._records.query(_pk(name), prefix="v#", reverse=True):
            number = int(item["version"])
            if number < version and self._status(name, number) == "approved":
                return DatasetVersion.from_dict(item)
        return None

    def compare(
        self,
        name_a: str,
        version_a: int | str | None,
        name_b: str | None = None,
        version_b: int | str | None = None,
        *,
        drift: DriftConfig | None = None,
    ) -> dict[str, Any]:
        """Compare version b against version a (b defaults to the same dataset).

        Reports schema differences, the row-count change, per-column statistic changes and
        per-column drift scores (``modelyard.quality.drift``) with a dataset drift score.
        """
        a = self.get(name_a, version_a)
        b = self.get(name_b or name_a, version_b)
        from modelyard.datasets import profile as profiling

        return profiling.compare(
            a.to_dict(), self._frame_summary(a), b.to_dict(), self._frame_summary(b), drift
        )

    # -- lineage ---------------------------------------------------------------------------
    def link_model(self, name: str, version: int, model: str, model_version: int) -> ModelLink:
        """Record that ``model@model_version`` was trained on ``name@version``.

        Used when no model registry provides the links (see ``used_by``).
        """
        validate_name("model", model)
        resolved = self.get(name, version)
        self._guard.check("datasets.link", f"dataset/{name}")
        link = ModelLink(name, resolved.version, model, int(model_version), self._clock())
        self._records.put_many(
            [
                {
                    "pk": f"lineage#dataset#{name}",
                    "sk": f"{resolved.version:08d}#{model}#{model_version:08d}",
                    **link.to_dict(),
                },
                {
                    "pk": f"lineage#model#{model}",
                    "sk": f"{model_version:08d}#{name}#{resolved.version:08d}",
                    **link.to_dict(),
                },
            ]
        )
        return link

    def used_by(self, name: str, version: int | str | None = None) -> list[ModelLink]:
        """The model versions trained on a dataset version."""
        resolved = self.get(name, version)
        links: dict[tuple[str, int], ModelLink] = {}
        if self._model_links is not None:
            for link in self._model_links.models_trained_on(name, resolved.version):
                links[(link.model, link.model_version)] = link
        for item in self._records.query(
            f"lineage#dataset#{name}", prefix=f"{resolved.version:08d}#"
        ):
            key = (item["model"], int(item["model_version"]))
            links.setdefault(
                key,
                ModelLink(
                    name,
                    resolved.version,
                    item["model"],
                    int(item["model_version"]),
                    datetime.fromisoformat(item["linked_at"]) if item.get("linked_at") else None,
                ),
            )
        return sorted(links.values(), key=lambda link: (link.model, link.model_version))

    def datasets_of_model(self, model: str, model_version: int) -> list[ModelLink]:
        """The dataset versions a model version was trained on (link records)."""
        validate_name("model", model)
        self._guard.check("datasets.read", f"model/{model}")
        return [
            ModelLink(
                item["dataset"],
                int(item["dataset_version"]),
                model,
                int(model_version),
                datetime.fromisoformat(item["linked_at"]) if item.get("linked_at") else None,
            )
            for item in self._records.query(
                f"lineage#model#{model}", prefix=f"{int(model_version):08d}#"
            )
        ]

    # -- internals -------------------------------------------------------------------------
    def _latest_number(self, name: str) -> int:
        for item in self._records.query(_pk(name), prefix="v#", reverse=True, limit=1):
            return int(item["version"])
        return 0

    def _latest(self, name: str) -> DatasetVersion | None:
        for item in self._records.query(_pk(name), prefix="v#", reverse=True, limit=1):
            return DatasetVersion.from_dict(item)
        return None

    def _version_by_hash(self, name: str, content_hash: str) -> DatasetVersion | None:
        item = self._records.find(_pk(name), f"hash#{content_hash}")
        if item is None:
            return None
        found = self._records.find(_pk(name), _vsk(int(item["version"])))
        return DatasetVersion.from_dict(found) if found else None

    def _resolve(self, name: str, version: int | str | None) -> DatasetVersion:
        if version is None or version == "latest":
            latest = self._latest(name)
            if latest is None:
                raise self._not_found(name)
            return latest
        if version == "approved":
            for item in self._records.query(_pk(name), prefix="v#", reverse=True):
                if self._status(name, int(item["version"])) == "approved":
                    return DatasetVersion.from_dict(item)
            self._ensure_exists(name)
            raise DatasetNotFoundError(
                f"dataset {name!r} has no approved version",
                hint=f"approve one: `modelyard datasets approve {name}@V`",
            )
        number = _version_number(version)
        found = self._records.find(_pk(name), _vsk(number))
        if found is None:
            newest = self._latest_number(name)
            if newest == 0:
                raise self._not_found(name)
            raise DatasetNotFoundError(
                f"dataset {name!r} has no version {number}; latest is {newest}",
                hint=f"run `modelyard datasets versions {name}`",
            )
        return DatasetVersion.from_dict(found)

    def _ensure_exists(self, name: str) -> None:
        if self._latest_number(name) == 0:
            raise self._not_found(name)

    def _not_found(self, name: str) -> DatasetNotFoundError:
        return DatasetNotFoundError(f"no dataset named {name!r}")

    def names(self) -> Iterable[str]:
        """Names of every dataset (no authorization: used for completion and checks)."""
        return (item["name"] for item in self._records.query(_INDEX))


def _source_key(sha256: str, options: ReadOptions, schema: DatasetSchema | None) -> str:
    """Sort key of the "these bytes, read this way, gave version V" shortcut record."""
    how = json.dumps(
        {"options": options.to_dict(), "schema": schema.to_dict() if schema else None},
        sort_keys=True,
    )
    return f"source#{sha256}#{hashlib.sha256(how.encode()).hexdigest()[:16]}"


def _text_columns(schema: DatasetSchema | None) -> dict[str, str]:
    """Declared text columns are read as text, never mis-inferred as numbers; other declared
    types are checked by the rule engine, so that every violation gets listed."""
    if schema is None:
        return {}
    return {c: t for c, t in schema.dtypes.items() if t == "str"}


def _version_number(version: int | str) -> int:
    if isinstance(version, int) and not isinstance(version, bool):
        number = version
    elif isinstance(version, str) and version.isdigit():
        number = int(version)
    else:
        raise InvalidInputError(
            f"dataset version {version!r} is not valid",
            hint="use a version number, 'latest' or 'approved' (e.g. NAME@3)",
        )
    if number < 1:
        raise InvalidInputError(f"dataset version must be 1 or more, got {number}")
    return number


def _violation_error(shown: str, problems: list[Violation]) -> SchemaViolationError:
    listing = "; ".join(p.describe() for p in problems[:20])
    more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
    return SchemaViolationError(
        f"{shown!r} breaks the declared schema in {len(problems)} ways: {listing}{more}",
        violations=[p.to_dict() for p in problems],
        hint="fix the listed values (or the schema) and add the file again; nothing was stored",
    )
