"""Property 37: invalid data is rejected before processing, with a clear error, nothing written."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.datasets import DatasetSchema
from modelyard.errors import SchemaViolationError
from modelyard.settings import Settings
from modelyard.workspace import open_workspace

SCHEMA = DatasetSchema.from_dict(
    {
        "columns": {
            "id": {"type": "int", "nullable": False, "unique": True},
            "age": {"type": "int", "min": 0, "max": 120},
            "sex": {"type": "str", "allowed": ["F", "M"]},
        },
        "keys": ["id"],
    }
)
BREAKS = ("age_high", "age_low", "sex_other", "id_duplicate", "id_missing", "age_text", "no_sex")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ages=st.lists(st.integers(0, 120), min_size=3, max_size=40),
    breaks=st.sets(st.sampled_from(BREAKS), min_size=0, max_size=3),
    data=st.data(),
)
def test_p37_dataset_validation_before_processing(
    ages: list[int], breaks: set[str], data: st.DataObject
) -> None:
    n = len(ages)
    ids: list[int | None] = list(range(1, n + 1))
    age_col: list[object] = list(ages)
    sex = [data.draw(st.sampled_from(["F", "M"])) for _ in range(n)]
    if "age_high" in breaks:
        age_col[0] = 121
    if "age_low" in breaks:
        age_col[-1] = -1
    if "age_text" in breaks:
        age_col[1] = "old"
    if "sex_other" in breaks:
        sex[0] = "X"
    if "id_duplicate" in breaks:
        ids[-1] = ids[0]
    if "id_missing" in breaks:
        ids[1] = None
    columns = {"id": ids, "age": [str(a) for a in age_col], "sex": sex}
    if "no_sex" in breaks:
        del columns["sex"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        pl.DataFrame(columns).write_csv(path)
        ws = open_workspace(
            Settings.load(
                {}, home=Path(tmp) / "ws", records_uri="memory://", blobs_uri="memory://"
            ),
            env={},
            create=True,
        )
        if not breaks:
            assert ws.datasets.add(path, name="p", schema=SCHEMA).rows == n
            return
        with pytest.raises(SchemaViolationError) as info:
            ws.datasets.add(path, name="p", schema=SCHEMA)
        rules = {(v["column"], v["rule"]) for v in info.value.violations}
        expected = {
            "age_high": ("age", "max"),
            "age_low": ("age", "min"),
            "age_text": ("age", "type"),
            "sex_other": ("sex", "allowed_values"),
            "id_duplicate": ("id", "unique"),
            "id_missing": ("id", "not_null"),
            "no_sex": ("sex", "required"),
        }
        for b in breaks:
            if b == "sex_other" and "no_sex" in breaks:
                continue
            assert expected[b] in rules, (b, rules)
        for v in info.value.violations:
            assert v["count"] >= 1
            assert v["column"]
        assert ws.datasets.list_datasets() == []
        assert list(ws.records.query("dataset#p")) == []
        assert list(ws.blobs.list("cas/")) == []
