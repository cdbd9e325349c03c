"""Feature group definitions: validation, fingerprints, YAML-shaped parsing."""

from __future__ import annotations

import pytest

from modelyard.errors import InvalidInputError
from modelyard.features import FeatureGroupSpec, FeatureType, parse_specs


def spec(**changes: object) -> FeatureGroupSpec:
    base: dict[str, object] = {
        "name": "encounters",
        "entity_key": "encounter_id",
        "event_time": "ts",
        "features": [
            {"name": "age", "dtype": "int64"},
            {"name": "ratio", "dtype": "float64", "expr": "age / 2"},
        ],
        "description": "d",
        "owner": "o",
        "tags": {"a": "b"},
    }
    base.update(changes)
    return FeatureGroupSpec.model_validate(base)


def test_defaults_and_key_as_tuple() -> None:
    s = spec()
    assert s.entity_key == ("encounter_id",)
    assert s.key_types == (FeatureType.INT64,)
    assert s.feature_names == ["age", "ratio"]


def test_metadata_does_not_change_the_fingerprint() -> None:
    assert spec().fingerprint() == spec(description="other", owner="x", tags={}).fingerprint()


@pytest.mark.parametrize(
    "changes",
    [
        {"features": [{"name": "age", "dtype": "float64"}]},
        {"features": [{"name": "age", "dtype": "int64"}, {"name": "ratio", "dtype": "float64"}]},
        {"event_time": "other"},
        {"entity_key": ["encounter_id", "brand"], "key_types": ["int64", "string"]},
    ],
)
def test_schema_changes_change_the_fingerprint(changes: dict[str, object]) -> None:
    assert spec().fingerprint() != spec(**changes).fingerprint()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "../etc"}, "not valid"),
        ({"features": []}, "at least one feature"),
        ({"entity_key": []}, "at least one column"),
        ({"features": [{"name": "ts", "dtype": "int64"}]}, "used twice"),
        ({"features": [{"name": "x", "dtype": "decimal"}]}, "dtype"),
        ({"features": [{"name": "ingested_at", "dtype": "int64"}]}, "reserved"),
        ({"key_types": ["float64"]}, "int64 or string"),
        ({"key_types": ["int64", "int64"]}, "key_types has 2"),
        ({"features": [{"name": "x", "dtype": "int64", "expr": "SELECT FROM"}]}, "SQL"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_invalid_definitions_are_named(changes: dict[str, object], message: str) -> None:
    data = spec().model_dump(mode="json")
    data.update(changes)
    with pytest.raises(InvalidInputError, match=message):
        parse_specs(data, source="fg.yaml")


def test_parse_specs_accepts_mapping_list_and_wrapper() -> None:
    one = spec().model_dump(mode="json")
    two = {**one, "name": "other"}
    assert [s.name for s in parse_specs(one)] == ["encounters"]
    assert [s.name for s in parse_specs([one, two])] == ["encounters", "other"]
    assert [s.name for s in parse_specs({"feature_groups": [one]})] == ["encounters"]
    with pytest.raises(InvalidInputError, match="defined twice"):
        parse_specs([one, one])
    with pytest.raises(InvalidInputError, match="expected a mapping"):
        parse_specs(["nope"])
