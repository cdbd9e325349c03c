"""Feature store entities: group definitions, versions, ingestions, plans and pins.

A :class:`FeatureGroupSpec` is what a user declares (in code or YAML). Its *schema part*
(entity key, event-time column, feature names, types and transformation expressions) is
fingerprinted: a different fingerprint is a new version; the same fingerprint with other
metadata (description, owner, tags) is a metadata update of the group and changes no data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from modelyard.errors import InvalidInputError
from modelyard.storage.keys import validate_name

__all__ = [
    "RESERVED_COLUMNS",
    "Feature",
    "FeatureGroupSpec",
    "FeatureGroupVersion",
    "FeaturePin",
    "FeatureType",
    "Ingestion",
    "Materialization",
    "PlanItem",
    "parse_specs",
]

INGESTED_AT = "ingested_at"
RESERVED_COLUMNS = frozenset({INGESTED_AT})


class FeatureType(StrEnum):
    """Types a feature (or entity key) can have."""

    INT64 = "int64"
    FLOAT64 = "float64"
    STRING = "string"
    BOOL = "bool"
    DATETIME = "datetime"


KEY_TYPES = (FeatureType.INT64, FeatureType.STRING)


class Feature(BaseModel):
    """One typed feature.

    ``expr`` is an optional transformation: a SQL expression over the input columns
    (``num_medications / (time_in_hospital + 1)``), evaluated by Polars at ingestion. It is part
    of the schema: changing it makes a new version.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dtype: FeatureType
    description: str = ""
    expr: str | None = None
    nullable: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _column_name("feature", value)


def _column_name(kind: str, value: str) -> str:
    validate_name(kind, value)
    if value in RESERVED_COLUMNS:
        raise ValueError(f"{kind} name {value!r} is reserved by modelyard")
    return value


class FeatureGroupSpec(BaseModel):
    """The declaration of a feature group.

    Args:
        name: the group name (``validate_name`` rules).
        entity_key: one or more key columns (int64 or string).
        key_types: the type of each key column (default int64).
        event_time: the column holding each row's event time.
        features: the typed features.
        version: optional explicit version. Left out, ``apply`` picks it (same schema: the
            current version; a new schema: the next one). Given, the schema must match that
            version if it exists (history is never rewritten) or it must be the next number.
        ttl_s: default time-to-live for point-in-time reads (None: no limit).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    entity_key: tuple[str, ...]
    key_types: tuple[FeatureType, ...] = ()
    event_time: str = "event_time"
    features: tuple[Feature, ...]
    description: str = ""
    owner: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1)
    ttl_s: float | None = Field(default=None, gt=0)

    @field_validator("name")
    @classmethod
    def _group_name(cls, value: str) -> str:
        return validate_name("feature group", value)

    @field_validator("entity_key", mode="before")
    @classmethod
    def _keys_as_tuple(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("entity_key")
    @classmethod
    def _key_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("entity_key needs at least one column")
        return tuple(_column_name("entity key", v) for v in value)

    @model_validator(mode="after")
    def _consistent(self) -> FeatureGroupSpec:
        if not self.key_types:
            object.__setattr__(self, "key_types", (FeatureType.INT64,) * len(self.entity_key))
        if len(self.key_types) != len(self.entity_key):
            raise ValueError(
                f"key_types has {len(self.key_types)} entries for {len(self.entity_key)} "
                "entity_key columns"
            )
        bad = [t.value for t in self.key_types if t not in KEY_TYPES]
        if bad:
            raise ValueError(f"entity key types must be int64 or string, got {bad}")
        _column_name("event_time", self.event_time)
        if not self.features:
            raise ValueError("a feature group needs at least one feature")
        names = [*self.entity_key, self.event_time, *(f.name for f in self.features)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"column names used twice: {dupes}")
        for feat in self.features:
            if feat.expr is not None:
                _check_expr(feat.name, feat.expr)
        return self

    # -- identity ------------------------------------------------------------------------------
    def schema_dict(self) -> dict[str, Any]:
        """The part of the definition that decides the data (and so the version)."""
        return {
            "entity_key": list(self.entity_key),
            "key_types": [t.value for t in self.key_types],
            "event_time": self.event_time,
            "features": [
                {"name": f.name, "dtype": f.dtype.value, "expr": f.expr, "nullable": f.nullable}
                for f in self.features
            ],
        }

    def fingerprint(self) -> str:
        """sha256 of the canonical schema: equal fingerprints mean equal data semantics."""
        text = json.dumps(self.schema_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def metadata_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "owner": self.owner,
            "tags": dict(sorted(self.tags.items())),
            "ttl_s": self.ttl_s,
        }

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _check_expr(name: str, expr: str) -> None:
    import polars as pl

    try:
        pl.sql_expr(expr)
    except Exception as exc:  # noqa: BLE001 -- polars raises several SQL error types
        raise ValueError(
            f"feature {name!r}: expr {expr!r} is not a valid SQL expression: {exc}"
        ) from None


def parse_specs(data: Any, *, source: str = "definition") -> list[FeatureGroupSpec]:
    """Specs from parsed YAML/JSON: a mapping, a list, or ``{"feature_groups": [...]}``.

    Raises:
        InvalidInputError: naming the group and the field that is wrong.
    """
    if isinstance(data, dict) and "feature_groups" in data:
        data = data["feature_groups"]
    items = data if isinstance(data, list) else [data]
    specs: list[FeatureGroupSpec] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInputError(
                f"{source}: entry {i} is a {type(item).__name__}, expected a mapping",
                hint="a feature group is a mapping with name, entity_key, event_time, features",
            )
        try:
            specs.append(FeatureGroupSpec.model_validate(item))
        except ValidationError as exc:
            label = item.get("name", f"entry {i}")
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(group)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InvalidInputError(
                f"{source}: feature group {label!r} is not valid: {problems}",
                hint="see docs/features.md for the definition format",
            ) from None
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInputError(f"{source}: feature groups defined twice: {dupes}")
    return specs


@dataclass(frozen=True)
class FeatureGroupVersion:
    """One immutable version of a group: its full spec as applied, and who made it."""

    name: str
    version: int
    spec: FeatureGroupSpec
    fingerprint: str
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "spec": self.spec.to_dict(),
        }


@dataclass(frozen=True)
class Ingestion:
    """One committed batch of rows in a group version's offline store."""

    name: str
    version: int
    seq: int
    key: str
    rows: int
    sha256: str
    size_bytes: int
    ingested_at: datetime
    ingested_by: str
    source: str
    min_event_time: datetime | None
    max_event_time: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "seq": self.seq,
            "key": self.key,
            "rows": self.rows,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "ingested_at": self.ingested_at.isoformat(),
            "ingested_by": self.ingested_by,
            "source": self.source,
            "min_event_time": _iso(self.min_event_time),
            "max_event_time": _iso(self.max_event_time),
        }


@dataclass(frozen=True)
class Materialization:
    """The result of one ``materialize`` call."""

    name: str
    version: int
    from_seq: int
    through_seq: int
    ingestions: int
    rows_read: int
    entities_written: int
    materialized_at: datetime
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "from_seq": self.from_seq,
            "through_seq": self.through_seq,
            "ingestions": self.ingestions,
            "rows_read": self.rows_read,
            "entities_written": self.entities_written,
            "materialized_at": self.materialized_at.isoformat(),
            "seconds": round(self.seconds, 4),
        }


PlanAction = Literal["create", "new_version", "update_metadata", "no_change"]


@dataclass(frozen=True)
class PlanItem:
    """What ``apply`` does (or would do) to one group."""

    name: str
    action: PlanAction
    version: int
    previous_version: int | None = None
    changes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "version": self.version,
            "previous_version": self.previous_version,
            "changes": list(self.changes),
        }


@dataclass(frozen=True)
class FeaturePin:
    """A group version (and its schema fingerprint) a model was trained with.

    Store ``to_dict()`` in a model version's metadata; ``FeatureService.resolve_pins``
    checks the pins still resolve to the same schema.
    """

    group: str
    version: int
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "version": self.version, "fingerprint": self.fingerprint}

    @property
    def ref(self) -> str:
        return f"{self.group}:v{self.version}"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
