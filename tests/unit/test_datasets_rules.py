"""The schema rule engine: every violation listed with column, rule, count and examples."""

from __future__ import annotations

import polars as pl
import pytest

from modelyard.datasets.rules import DatasetSchema, coerce, validate
from modelyard.errors import InvalidInputError

SCHEMA = DatasetSchema.from_text(
    """
columns:
  id: {type: int, nullable: false, unique: true}
  age: {type: int, min: 0, max: 120}
  sex: {type: str, allowed: [F, M]}
  note: {type: str, required: false}
  must: {type: float}
keys: [id]
"""
)


def test_valid_frame_has_no_violations() -> None:
    frame = pl.DataFrame({"id": [1, 2], "age": [30, 40], "sex": ["F", "M"], "must": [1.0, 2.0]})
    assert validate(frame, SCHEMA) == []


def test_every_violation_is_listed() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 1, None, 4],
            "age": ["30", "x", "150", "-1"],
            "sex": ["F", "Q", "Z", None],
        }
    )
    found = {(v.column, v.rule): v for v in validate(frame, SCHEMA)}
    assert set(found) == {
        ("must", "required"),
        ("id", "not_null"),
        ("id", "unique"),
        ("id", "unique_key"),
        ("age", "type"),
        ("age", "min"),
        ("age", "max"),
        ("sex", "allowed_values"),
    }
    assert found[("age", "type")].examples == ("x",)
    assert found[("age", "max")].count == 1
    assert found[("age", "max")].examples == (150,)
    assert found[("sex", "allowed_values")].count == 2
    assert set(found[("sex", "allowed_values")].examples) == {"Q", "Z"}
    assert found[("id", "unique")].count == 2


def test_strict_schema_flags_extra_columns_and_coerce_casts() -> None:
    schema = DatasetSchema.from_dict({"columns": {"a": "int"}, "strict": True})
    frame = pl.DataFrame({"a": ["1", "2"], "b": [1, 2]})
    (violation,) = validate(frame, schema)
    assert violation.rule == "unexpected_columns"
    assert violation.examples == ("b",)
    assert coerce(frame, schema).schema["a"] == pl.Int64


@pytest.mark.parametrize(
    "text",
    [
        "columns: [a, b]",
        "columns: {a: {type: integer}}",
        "columns: {a: {min: low}}",
        "columns: {a: {colour: red}}",
        "nope: 1",
        "columns: {a: int",
    ],
)
def test_bad_schema_documents_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError):
        DatasetSchema.from_text(text)


def test_schema_round_trips() -> None:
    assert DatasetSchema.from_dict(SCHEMA.to_dict()) == SCHEMA
