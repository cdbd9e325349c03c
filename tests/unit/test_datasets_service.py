"""The dataset service: versions, dedupe, load, schema, approval, lineage, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from modelyard.datasets import DatasetSchema
from modelyard.errors import (
    ConflictError,
    DatasetNotFoundError,
    InvalidInputError,
    SchemaViolationError,
)
from modelyard.settings import Settings
from modelyard.workspace import Workspace, open_workspace

CSV = "id,age,sex,lab\n1,30,F,None\n2,?,M,>7\n3,50,F,Norm\n4,61,M,None\n"


def _csv(tmp_path: Path, text: str = CSV, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_add_load_and_dedupe(workspace: Workspace, tmp_path: Path) -> None:
    path = _csv(tmp_path)
    v1 = workspace.datasets.add(path, name="patients", missing_tokens=["?"], tags=["raw"])
    assert (v1.version, v1.rows, v1.columns, v1.format) == (1, 4, 4, "csv")
    assert v1.schema == {"id": "int", "age": "int", "sex": "str", "lab": "str"}
    frame = workspace.datasets.load("patients", 1)
    assert frame["age"].to_list() == [30, None, 50, 61]
    assert frame["lab"].to_list() == ["None", ">7", "Norm", "None"]
    again = workspace.datasets.add_file(path, name="patients", missing_tokens=["?"])
    assert not again.created
    assert again.version.version == 1
    gz = tmp_path / "d.csv.gz"
    import gzip

    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert workspace.datasets.add(gz, name="patients", missing_tokens=["?"]).version == 1
    v2 = workspace.datasets.add(
        _csv(tmp_path, CSV + "5,70,F,None\n"), name="patients", missing_tokens=["?"]
    )
    assert v2.version == 2
    assert [v.version for v in workspace.datasets.versions("patients")] == [1, 2]
    assert workspace.datasets.get("patients").version == 2
    assert workspace.datasets.get("patients", "1").content_hash == v1.content_hash


def test_unknown_names_and_versions(workspace: Workspace) -> None:
    with pytest.raises(DatasetNotFoundError, match="no dataset named 'ghost'"):
        workspace.datasets.get("ghost")
    with pytest.raises(InvalidInputError):
        workspace.datasets.get("../etc")
    with pytest.raises(InvalidInputError):
        workspace.datasets.get("ghost", "seven")


def test_declared_schema_rejects_and_writes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    schema = DatasetSchema.from_dict(
        {"columns": {"id": {"type": "int", "unique": True}, "sex": {"allowed": ["F"]}}}
    )
    before = sorted((r["pk"], r["sk"]) for r in workspace.records.query("datasets"))
    blobs_before = sorted(workspace.blobs.list())
    with pytest.raises(SchemaViolationError) as info:
        workspace.datasets.add(_csv(tmp_path, CSV + "1,20,X,None\n"), name="p", schema=schema)
    rules = {(v["column"], v["rule"]) for v in info.value.violations}
    assert rules == {("id", "unique"), ("sex", "allowed_values")}
    assert info.value.to_dict()["violations"]
    assert sorted((r["pk"], r["sk"]) for r in workspace.records.query("datasets")) == before
    assert sorted(workspace.blobs.list()) == blobs_before
    assert workspace.datasets.list_datasets() == []


def test_stored_schema_applies_to_later_versions(workspace: Workspace, tmp_path: Path) -> None:
    workspace.datasets.set_schema("p", DatasetSchema.from_dict({"columns": {"age": {"max": 55}}}))
    with pytest.raises(SchemaViolationError, match="max"):
        workspace.datasets.add(_csv(tmp_path), name="p", missing_tokens=["?"])
    problems = workspace.datasets.validate_file(_csv(tmp_path), name="p", missing_tokens=["?"])
    assert [(p.column, p.rule, p.count) for p in problems] == [("age", "max", 1)]


def test_approval_history_and_approved_only(tmp_path: Path) -> None:
    settings = Settings.load(
        {}, home=tmp_path / "ws", records_uri="memory://", blobs_uri="memory://", approved_only=True
    )
    ws = open_workspace(settings, env={"MODELYARD_USER": "dana"}, create=True)
    ws.datasets.add(_csv(tmp_path), name="p")
    with pytest.raises(ConflictError, match="approved"):
        ws.datasets.load("p", 1, production=True)
    ws.datasets.load("p", 1)  # exploration is fine
    rejected = ws.datasets.reject("p", 1, "ages look wrong")
    approved = ws.datasets.approve("p", 1, "checked by hand")
    assert (rejected.status, approved.status, approved.by) == ("rejected", "approved", "dana")
    status = ws.datasets.status("p", 1)
    assert status["status"] == "approved"
    assert len(status["history"]) == 2
    assert ws.datasets.load("p", "approved", production=True).height == 4
    assert ws.datasets.get("p", "approved").version == 1


def test_used_by_reads_links(workspace: Workspace, tmp_path: Path) -> None:
    workspace.datasets.add(_csv(tmp_path), name="p")
    workspace.datasets.link_model("p", 1, "risk", 3)
    (link,) = workspace.datasets.used_by("p", 1)
    assert (link.model, link.model_version) == ("risk", 3)
    assert [d.dataset for d in workspace.datasets.datasets_of_model("risk", 3)] == ["p"]


def test_parquet_round_trip_keeps_types(workspace: Workspace, tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", None], "c": [0.5, 1.5]})
    frame.write_parquet(tmp_path / "f.parquet")
    v = workspace.datasets.add(tmp_path / "f.parquet", name="pq")
    assert v.format == "parquet"
    assert workspace.datasets.load("pq").equals(frame)
