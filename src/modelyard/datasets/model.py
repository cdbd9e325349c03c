"""Dataset entities: versions, read options, approvals, anomalies and lineage links.

Plain frozen dataclasses with ``to_dict``/``from_dict`` (the record layout); no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "TYPE_NAMES",
    "Anomaly",
    "Approval",
    "DatasetVersion",
    "ModelLink",
    "ReadOptions",
    "parse_ref",
]

#: Logical column types a schema may name (``--dtype col=str``, schema files).
TYPE_NAMES = ("str", "int", "float", "bool", "date", "datetime")


@dataclass(frozen=True)
class ReadOptions:
    """How a file becomes a table.

    Args:
        missing_tokens: cell values read as missing (default: the empty string). The UCI
            diabetes data needs ``("?",)``.
        keep_values: values that are categories of their own and never missing, even if
            listed in ``missing_tokens`` (e.g. ``"None"`` in ``A1Cresult``: "not measured").
        dtypes: column -> logical type (one of ``TYPE_NAMES``) overriding inference, e.g.
            ``{"admission_type_id": "str"}`` for integer-coded categories.
        member: the CSV inside a zip archive (needed when the zip holds several).
        separator: the CSV field separator.
    """

    missing_tokens: tuple[str, ...] = ("",)
    keep_values: tuple[str, ...] = ()
    dtypes: Mapping[str, str] = field(default_factory=dict)
    member: str | None = None
    separator: str = ","

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing_tokens": list(self.missing_tokens),
            "keep_values": list(self.keep_values),
            "dtypes": dict(sorted(self.dtypes.items())),
            "member": self.member,
            "separator": self.separator,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReadOptions:
        return cls(
            missing_tokens=tuple(data.get("missing_tokens", ("",))),
            keep_values=tuple(data.get("keep_values", ())),
            dtypes=dict(data.get("dtypes", {})),
            member=data.get("member"),
            separator=data.get("separator", ","),
        )

    @property
    def null_values(self) -> list[str]:
        """The tokens that really mean missing (``keep_values`` removed)."""
        return [t for t in self.missing_tokens if t not in self.keep_values]


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable, content-addressed version of a dataset (all of capability 3's metadata).

    ``content_hash`` is the sha256 of the stored canonical Parquet file; ``source_sha256`` is the
    sha256 of the file as it was given (CSV, gzip, zip or Parquet).
    """

    name: str
    version: int
    content_hash: str
    size_bytes: int
    format: str
    schema: dict[str, str]
    rows: int
    columns: int
    source: str
    source_sha256: str
    source_size_bytes: int
    created_by: str
    created_at: datetime
    description: str = ""
    tags: tuple[str, ...] = ()
    read_options: ReadOptions = field(default_factory=ReadOptions)
    attribution: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "schema": dict(self.schema),
            "rows": self.rows,
            "columns": self.columns,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "source_size_bytes": self.source_size_bytes,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "description": self.description,
            "tags": list(self.tags),
            "read_options": self.read_options.to_dict(),
            "attribution": self.attribution,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetVersion:
        return cls(
            name=data["name"],
            version=int(data["version"]),
            content_hash=data["content_hash"],
            size_bytes=int(data["size_bytes"]),
            format=data["format"],
            schema=dict(data["schema"]),
            rows=int(data["rows"]),
            columns=int(data["columns"]),
            source=data["source"],
            source_sha256=data["source_sha256"],
            source_size_bytes=int(data["source_size_bytes"]),
            created_by=data["created_by"],
            created_at=datetime.fromisoformat(data["created_at"]),
            description=data.get("description", ""),
            tags=tuple(data.get("tags", ())),
            read_options=ReadOptions.from_dict(data.get("read_options", {})),
            attribution=data.get("attribution"),
        )


@dataclass(frozen=True)
class Approval:
    """An approval decision on a dataset version (the latest decision counts)."""

    name: str
    version: int
    status: str  # "approved" | "rejected"
    by: str
    at: datetime
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "by": self.by,
            "at": self.at.isoformat(),
            "comment": self.comment,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        return cls(
            name=data["name"],
            version=int(data["version"]),
            status=data["status"],
            by=data["by"],
            at=datetime.fromisoformat(data["at"]),
            comment=data.get("comment", ""),
        )


@dataclass(frozen=True)
class Anomaly:
    """One finding: which column, what kind, how many rows, a few examples."""

    kind: str
    column: str | None
    count: int
    examples: tuple[Any, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "column": self.column,
            "count": self.count,
            "examples": list(self.examples),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ModelLink:
    """A model version trained on a dataset version (lineage, read both ways)."""

    dataset: str
    dataset_version: int
    model: str
    model_version: int
    linked_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "dataset_version": self.dataset_version,
            "model": self.model,
            "model_version": self.model_version,
            "linked_at": self.linked_at.isoformat() if self.linked_at else None,
        }


def parse_ref(ref: str) -> tuple[str, str | None]:
    """Split ``NAME@V`` into (name, version spec); the spec is None without ``@``.

    Specs: a number, ``latest`` or ``approved`` (the newest approved version).
    """
    if "@" in ref:
        name, _, spec = ref.rpartition("@")
        return name, spec
    return ref, None
