"""Registry entities: models, versions, artifacts, approvals, references. Pure: no I/O.

A version's artifacts and metadata never change after registration. What moves (status,
approval, tags) is recorded in its ``history`` with who, when and why.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from modelyard.errors import ArtifactNotFoundError, InvalidInputError
from modelyard.storage.keys import validate_name
from modelyard.tracking.model import decode_metric

__all__ = [
    "IMMUTABLE_FIELDS",
    "Approval",
    "ArtifactInfo",
    "DatasetRef",
    "HistoryEntry",
    "Model",
    "ModelVersion",
    "VersionRef",
    "VersionStatus",
    "metadata_digest",
]

IMMUTABLE_FIELDS = (
    "name",
    "version",
    "framework",
    "params",
    "metrics",
    "input_schema",
    "datasets",
    "run_id",
    "code_version",
    "created_by",
    "created_at",
    "artifacts",
    "description",
)
_DIGITS = re.compile(r"^[0-9]+$")


class VersionStatus(StrEnum):
    """pending -> approved | rejected; approved -> archived."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ARCHIVED = "archived"


TRANSITIONS: dict[VersionStatus, dict[VersionStatus, str]] = {
    VersionStatus.PENDING: {VersionStatus.APPROVED: "approve", VersionStatus.REJECTED: "reject"},
    VersionStatus.APPROVED: {VersionStatus.ARCHIVED: "archive"},
    VersionStatus.REJECTED: {},
    VersionStatus.ARCHIVED: {},
}


def metadata_digest(record: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a version's immutable fields (as stored)."""
    body = {k: record.get(k) for k in IMMUTABLE_FIELDS}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _parse_version_number(text: str, what: str) -> int:
    if not _DIGITS.match(text) or int(text) < 1:
        raise InvalidInputError(
            f"{what} version {text!r} is not a number",
            hint="versions are whole numbers starting at 1 (or 'latest'), e.g. adherence@3",
        )
    return int(text)


@dataclass(frozen=True)
class VersionRef:
    """``NAME@V`` (``V`` a number, or None for the latest version)."""

    name: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> VersionRef:
        """Parse ``NAME@V`` or ``NAME@latest``.

        Raises:
            InvalidInputError: no ``@``, an invalid name, or a version that is not a number.
        """
        name, sep, spec = text.rpartition("@")
        if not sep:
            raise InvalidInputError(
                f"{text!r} names no version",
                hint="write NAME@VERSION, e.g. adherence@3 (or adherence@latest)",
            )
        validate_name("model", name)
        if spec.lower() == "latest":
            return cls(name, None)
        return cls(name, _parse_version_number(spec, f"model {name!r}"))

    def __str__(self) -> str:
        return f"{self.name}@{'latest' if self.version is None else self.version}"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset version a model was trained or evaluated on."""

    name: str
    version: int

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """Parse ``NAME@V`` (``V`` a whole number).

        Raises:
            InvalidInputError: malformed reference.
        """
        name, sep, spec = str(text).rpartition("@")
        if not sep:
            raise InvalidInputError(
                f"dataset reference {text!r} names no version",
                hint="write NAME@VERSION, e.g. diabetes@1",
            )
        validate_name("dataset", name)
        return cls(name, _parse_version_number(spec, f"dataset {name!r}"))

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True)
class ArtifactInfo:
    """One stored artifact file: its name within the version, sha256 and size."""

    name: str
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size_bytes": self.size_bytes}


@dataclass(frozen=True)
class Approval:
    """The decision on a pending version."""

    decision: VersionStatus
    by: str
    at: datetime
    comment: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "by": self.by,
            "at": self.at.isoformat(),
            "comment": self.comment,
        }


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a version's mutable state: what, who, when, why."""

    action: str
    by: str
    at: datetime
    comment: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "by": self.by,
            "at": self.at.isoformat(),
            "comment": self.comment,
            "detail": dict(self.detail),
        }


FEATURE_PINS_TAG = "feature_pins"
"""The tag holding the feature group versions a model version was trained with."""


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version with all of capability 1's metadata."""

    name: str
    version: int
    status: VersionStatus
    framework: str
    params: Mapping[str, str]
    metrics: Mapping[str, float]
    input_schema: tuple[tuple[str, str], ...]
    datasets: tuple[DatasetRef, ...]
    run_id: str | None
    code_version: str | None
    created_by: str
    created_at: datetime
    artifacts: tuple[ArtifactInfo, ...]
    description: str
    tags: Mapping[str, str]
    approval: Approval | None
    history: tuple[HistoryEntry, ...]
    metadata_sha256: str

    @property
    def ref(self) -> VersionRef:
        return VersionRef(self.name, self.version)

    @property
    def feature_pins(self) -> list[dict[str, Any]]:
        """The feature group versions the version was trained with (tag
        :data:`FEATURE_PINS_TAG`, a JSON list of ``{group, version, fingerprint}``); an
        absent or unreadable tag gives ``[]`` (a consumer that needs the pins checks them
        with ``FeatureService.resolve_pins``)."""
        raw = self.tags.get(FEATURE_PINS_TAG)
        if not raw:
            return []
        try:
            pins = json.loads(raw)
        except ValueError:
            return []
        if not isinstance(pins, list):
            return []
        return [p for p in pins if isinstance(p, dict)]

    def artifact(self, name: str) -> ArtifactInfo:
        """The artifact called ``name``.

        Raises:
            ArtifactNotFoundError: no such artifact (the message lists the ones there are).
        """
        for art in self.artifacts:
            if art.name == name:
                return art
        names = ", ".join(a.name for a in self.artifacts)
        raise ArtifactNotFoundError(f"{self.ref} has no artifact {name!r}; it has: {names}")

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> ModelVersion:
        approval = rec.get("approval")
        return cls(
            name=rec["name"],
            version=int(rec["version"]),
            status=VersionStatus(rec["status"]),
            framework=rec["framework"],
            params=dict(rec["params"]),
            metrics={k: decode_metric(v) for k, v in rec["metrics"].items()},
            input_schema=tuple((c, t) for c, t in rec["input_schema"]),
            datasets=tuple(DatasetRef(d["name"], int(d["version"])) for d in rec["datasets"]),
            run_id=rec["run_id"],
            code_version=rec["code_version"],
            created_by=rec["created_by"],
            created_at=datetime.fromisoformat(rec["created_at"]),
            artifacts=tuple(
                ArtifactInfo(a["name"], a["sha256"], int(a["size_bytes"])) for a in rec["artifacts"]
            ),
            description=rec["description"],
            tags=dict(rec["tags"]),
            approval=None
            if approval is None
            else Approval(
                VersionStatus(approval["decision"]),
                approval["by"],
                datetime.fromisoformat(approval["at"]),
                approval["comment"],
            ),
            history=tuple(
                HistoryEntry(
                    h["action"],
                    h["by"],
                    datetime.fromisoformat(h["at"]),
                    h["comment"],
                    h.get("detail", {}),
                )
                for h in rec["history"]
            ),
            metadata_sha256=rec["metadata_sha256"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status.value,
            "framework": self.framework,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "input_schema": [{"name": c, "type": t} for c, t in self.input_schema],
            "datasets": [str(d) for d in self.datasets],
            "run_id": self.run_id,
            "code_version": self.code_version,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "description": self.description,
            "tags": dict(self.tags),
            "approval": None if self.approval is None else self.approval.to_dict(),
            "history": [h.to_dict() for h in self.history],
            "metadata_sha256": self.metadata_sha256,
        }


@dataclass(frozen=True)
class Model:
    """A registered model: its name and a summary of its versions."""

    name: str
    created_at: datetime
    created_by: str
    latest_version: int
    latest_status: VersionStatus

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "latest_version": self.latest_version,
            "latest_status": self.latest_status.value,
        }
