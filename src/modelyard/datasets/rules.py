"""Declared dataset schemas and the rule engine that checks a table against one.

Pure: a schema is data (from YAML/JSON text or a dict) and ``validate`` only looks at a Polars
DataFrame. Every violation is reported (column, rule, count, examples), never only the first,
so that a rejected file can be fixed in one pass.

A schema file::

    columns:
      encounter_id: {type: int, nullable: false, unique: true}
      age:          {type: str, allowed: ["[0-10)", "[10-20)", ...]}
      time_in_hospital: {type: int, min: 1, max: 14}
      weight:       {type: str, required: false}
    keys: [encounter_id]        # composite key whose rows must be unique
    strict: false               # true: columns not listed are a violation
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import yaml

from modelyard.datasets.model import TYPE_NAMES
from modelyard.errors import InvalidInputError

__all__ = ["ColumnRule", "DatasetSchema", "Violation", "coerce", "validate"]

_EXAMPLES = 5
_RULE_KEYS = {"type", "required", "nullable", "min", "max", "allowed", "unique"}
_POLARS = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime(),
}


@dataclass(frozen=True)
class ColumnRule:
    """What one column must satisfy."""

    type: str | None = None
    required: bool = True
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: tuple[Any, ...] | None = None
    unique: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"required": self.required, "nullable": self.nullable}
        if self.type is not None:
            out["type"] = self.type
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.allowed is not None:
            out["allowed"] = list(self.allowed)
        if self.unique:
            out["unique"] = True
        return out


@dataclass(frozen=True)
class DatasetSchema:
    """The declared schema of a dataset: rules per column, key columns, strictness."""

    columns: Mapping[str, ColumnRule] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    strict: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": {name: rule.to_dict() for name, rule in self.columns.items()},
            "keys": list(self.keys),
            "strict": self.strict,
        }

    @property
    def dtypes(self) -> dict[str, str]:
        """Declared types of the columns that declare one."""
        return {c: r.type for c, r in self.columns.items() if r.type is not None}

    @classmethod
    def from_dict(cls, data: Any) -> DatasetSchema:
        """Build from a parsed schema document.

        Raises:
            InvalidInputError: the document is not a valid schema (names the problem).
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("a dataset schema must be a mapping with a 'columns' key")
        unknown = sorted(set(data) - {"columns", "keys", "strict"})
        if unknown:
            raise InvalidInputError(
                f"dataset schema has unknown keys: {', '.join(map(str, unknown))}",
                hint="valid keys: columns, keys, strict",
            )
        raw_columns = data.get("columns") or {}
        if not isinstance(raw_columns, Mapping):
            raise InvalidInputError("schema 'columns' must map column names to rules")
        columns = {str(n): _column_rule(str(n), r) for n, r in raw_columns.items()}
        keys = data.get("keys") or []
        if isinstance(keys, str):
            keys = [keys]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InvalidInputError("schema 'keys' must be a list of column names")
        return cls(columns=columns, keys=tuple(keys), strict=bool(data.get("strict", False)))

    @classmethod
    def from_text(cls, text: str) -> DatasetSchema:
        """Parse YAML (or JSON, a subset of YAML) schema text.

        Raises:
            InvalidInputError: not parseable or not a valid schema.
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInputError(
                f"dataset schema is not valid YAML/JSON: {exc}",
                hint="see docs/datasets.md for the schema file format",
            ) from exc
        return cls.from_dict(data)


def _column_rule(name: str, raw: Any) -> ColumnRule:
    if raw is None:
        return ColumnRule()
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"schema rule for column {name!r} must be a mapping")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise InvalidInputError(
            f"schema rule for column {name!r} has unknown keys: {', '.join(map(str, unknown))}",
            hint=f"valid keys: {', '.join(sorted(_RULE_KEYS))}",
        )
    type_name = raw.get("type")
    if type_name is not None and type_name not in TYPE_NAMES:
        raise InvalidInputError(
            f"schema rule for column {name!r} has unknown type {type_name!r}",
            hint=f"use one of: {', '.join(TYPE_NAMES)}",
        )
    allowed = raw.get("allowed")
    if allowed is not None and not isinstance(allowed, list):
        raise InvalidInputError(f"schema rule for column {name!r}: 'allowed' must be a list")
    for bound in ("min", "max"):
        value = raw.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInputError(f"schema rule for column {name!r}: {bound!r} must be a number")
    return ColumnRule(
        type=type_name,
        required=bool(raw.get("required", True)),
        nullable=bool(raw.get("nullable", True)),
        min=raw.get("min"),
        max=raw.get("max"),
        allowed=tuple(allowed) if allowed is not None else None,
        unique=bool(raw.get("unique", False)),
    )


@dataclass(frozen=True)
class Violation:
    """One broken rule: which column, which rule, how many rows, a few offending values."""

    column: str | None
    rule: str
    count: int
    examples: tuple[Any, ...] = ()
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "examples": list(self.examples),
            "detail": self.detail,
        }

    def describe(self) -> str:
        where = f"column {self.column!r}" if self.column else "table"
        shown = f" e.g. {', '.join(map(_show, self.examples))}" if self.examples else ""
        return f"{where}: {self.rule} ({self.count} rows){shown}" + (
            f" — {self.detail}" if self.detail else ""
        )


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _examples(series: pl.Series) -> tuple[Any, ...]:
    values = series.drop_nulls().unique(maintain_order=True).head(_EXAMPLES).to_list()
    return tuple(v if isinstance(v, int | float | str | bool) else str(v) for v in values)


def validate(frame: pl.DataFrame, schema: DatasetSchema) -> list[Violation]:
    """Check ``frame`` against ``schema``; return every violation (empty list: valid)."""
    found: list[Violation] = []
    rows = frame.height
    for name, rule in schema.columns.items():
        if name not in frame.columns:
            if rule.required:
                found.append(Violation(name, "required", rows, (), "column is missing"))
            continue
        series = frame[name]
        typed, bad_type = _typed(series, rule.type)
        if bad_type is not None:
            found.append(bad_type)
        if not rule.nullable and (nulls := series.null_count()):
            found.append(Violation(name, "not_null", nulls, (), "missing values not allowed"))
        if typed is not None and (rule.min is not None or rule.max is not None):
            found.extend(_range(name, typed, rule))
        if rule.allowed is not None:
            allowed = [str(a) for a in rule.allowed]
            as_text = series.cast(pl.String)
            outside = as_text.filter(as_text.is_not_null() & ~as_text.is_in(allowed))
            if outside.len():
                found.append(
                    Violation(
                        name, "allowed_values", outside.len(), _examples(outside), "not in allowed"
                    )
                )
        if rule.unique:
            dupes = series.filter(series.is_duplicated())
            if dupes.len():
                found.append(Violation(name, "unique", dupes.len(), _examples(dupes)))
    if schema.keys:
        absent = [k for k in schema.keys if k not in frame.columns]
        if absent:
            found.append(
                Violation(", ".join(absent), "key_columns", rows, (), "key column missing")
            )
        else:
            keyed = frame.select(schema.keys)
            mask = keyed.is_duplicated()
            count = int(mask.sum())
            if count:
                examples = tuple(
                    json.dumps(row, default=str)
                    for row in keyed.filter(mask).unique(maintain_order=True).head(_EXAMPLES).rows()
                )
                found.append(
                    Violation(",".join(schema.keys), "unique_key", count, examples, "duplicate key")
                )
    if schema.strict:
        extra = [c for c in frame.columns if c not in schema.columns]
        if extra:
            found.append(
                Violation(None, "unexpected_columns", len(extra), tuple(extra[:_EXAMPLES]))
            )
    return found


def _typed(series: pl.Series, type_name: str | None) -> tuple[pl.Series | None, Violation | None]:
    """The series in its declared type (None if not numeric) and a type violation, if any."""
    if type_name is None:
        return (series if series.dtype.is_numeric() else None), None
    target = _POLARS[type_name]
    if series.dtype == target:
        return (series if target.is_numeric() else None), None
    try:
        cast = series.cast(target, strict=False)
    except pl.exceptions.PolarsError:
        cast = pl.Series(series.name, [None] * series.len(), dtype=target)
    if type_name == "int" and series.dtype.is_float():
        lossy = series.is_not_null() & (series != series.round(0))
        cast = cast.set(lossy, None)
    failed = series.filter(series.is_not_null() & cast.is_null())
    violation = (
        Violation(
            series.name,
            "type",
            failed.len(),
            _examples(failed),
            f"expected {type_name}, found {series.dtype}",
        )
        if failed.len()
        else None
    )
    return (cast if target.is_numeric() else None), violation


def _range(name: str, values: pl.Series, rule: ColumnRule) -> list[Violation]:
    out: list[Violation] = []
    if rule.min is not None:
        low = values.filter(values < rule.min)
        if low.len():
            out.append(Violation(name, "min", low.len(), _examples(low), f"below {rule.min}"))
    if rule.max is not None:
        high = values.filter(values > rule.max)
        if high.len():
            out.append(Violation(name, "max", high.len(), _examples(high), f"above {rule.max}"))
    return out


def coerce(frame: pl.DataFrame, schema: DatasetSchema) -> pl.DataFrame:
    """Cast declared-type columns to their type (call after ``validate`` found nothing)."""
    casts = [
        pl.col(c).cast(_POLARS[t], strict=False)
        for c, t in schema.dtypes.items()
        if c in frame.columns and frame.schema[c] != _POLARS[t]
    ]
    return frame.with_columns(casts) if casts else frame
