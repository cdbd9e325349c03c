"""``modelyard datasets …`` and ``modelyard catalog …`` as a user types them."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
CSV = "id,age,sex,lab\n1,30,F,None\n2,?,M,>7\n3,50,F,Norm\n4,61,M,None\n5,44,F,None\n"


def _ok(result: CliResult) -> dict:  # type: ignore[type-arg]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def test_dataset_lifecycle(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    data = tmp_path / "p.csv"
    data.write_text(CSV)
    added = _ok(
        cli(
            "datasets",
            "add",
            str(data),
            "--name",
            "patients",
            "--missing",
            "?",
            "--keep",
            "None",
            "--dtype",
            "id=str",
            "--tag",
            "raw",
            "--json",
        )
    )
    for key in ("name", "version", "content_hash", "rows", "columns"):
        assert key in added
    assert (added["version"], added["rows"], added["columns"], added["created"]) == (1, 5, 4, True)
    again = _ok(
        cli(
            "datasets",
            "add",
            str(data),
            "--name",
            "patients",
            "--missing",
            "?",
            "--keep",
            "None",
            "--dtype",
            "id=str",
            "--json",
        )
    )
    assert (again["version"], again["created"]) == (1, False)
    (tmp_path / "p2.csv").write_text(CSV + "6,70,M,>8\n")
    v2 = _ok(
        cli(
            "datasets",
            "add",
            str(tmp_path / "p2.csv"),
            "--name",
            "patients",
            "--missing",
            "?",
            "--dtype",
            "id=str",
            "--json",
        )
    )
    assert v2["version"] == 2

    listed = _ok(cli("datasets", "list", "--json"))["datasets"]
    assert [(d["name"], d["latest"]) for d in listed] == [("patients", 2)]
    assert len(_ok(cli("datasets", "versions", "patients", "--json"))["versions"]) == 2
    shown = _ok(cli("datasets", "show", "patients@1", "--json"))
    assert shown["schema"]["id"] == "str"
    assert shown["approval"]["status"] == "pending"

    schema = tmp_path / "schema.yaml"
    schema.write_text("columns:\n  age: {type: int, max: 60}\n  sex: {allowed: [F, M]}\n")
    checked = cli(
        "datasets", "validate", str(data), "--schema", str(schema), "--missing", "?", "--json"
    )
    assert checked.returncode == 1
    body = json.loads(checked.stdout)
    assert body["valid"] is False
    assert [(v["column"], v["rule"], v["count"]) for v in body["violations"]] == [("age", "max", 1)]
    assert _ok(cli("datasets", "validate", "patients@1", "--json"))["valid"] is True

    report = tmp_path / "report.html"
    profile = _ok(cli("datasets", "profile", "patients@2", "--html", str(report), "--json"))
    assert len(profile["columns"]) == 4
    assert report.read_text().startswith("<!DOCTYPE html>")
    human = cli("datasets", "profile", "patients")
    assert human.returncode == 0
    assert "age" in human.stdout

    anomalies = _ok(cli("datasets", "anomalies", "patients@2", "--json"))["anomalies"]
    assert isinstance(anomalies, list)
    approved = _ok(cli("datasets", "approve", "patients@1", "-m", "looks right", "--json"))
    assert approved["status"] == "approved"
    assert approved["by"] == "tester"
    assert approved["comment"] == "looks right"
    rejected = _ok(cli("datasets", "reject", "patients@2", "--comment", "late rows", "--json"))
    assert rejected["status"] == "rejected"
    compared = _ok(cli("datasets", "compare", "patients@1", "patients@2", "--json"))
    assert compared["rows"]["change"] == 1
    assert compared["drift"]["tested_features"] >= 1
    assert cli("datasets", "compare", "patients@1", "2").returncode == 0
    used = _ok(cli("datasets", "used-by", "patients@1", "--json"))
    assert used == {"dataset": "patients@1", "models": []}


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


BAD_INPUTS = {
    "empty": "is empty",
    "header": "no data rows",
    "garbage": "binary",
    "ragged": "ragged rows",
    "latin1": "not UTF-8",
    "long_line": "no line break",
    "dup_columns": "duplicate column names",
    "zip_several": "holds 2 CSV files",
    "zip_none": "holds no CSV",
    "missing": "does not exist",
    "bad_name": "dataset name",
    "dotdot_name": "dataset name",
}


def _bad_file(tmp_path: Path, case: str) -> tuple[Path, str]:
    path = tmp_path / f"{case}.csv"
    name = "bad"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "header":
        path.write_text("a,b\n")
    elif case == "garbage":
        path.write_bytes(bytes(range(256)) * 10)
    elif case == "ragged":
        path.write_text("a,b\n1,2\n3,4,5\n")
    elif case == "latin1":
        path.write_bytes("a,b\nré,1\n".encode("latin-1"))
    elif case == "long_line":
        path.write_bytes(b"x," * (25 * 1024 * 1024))  # a 50 MB single line
    elif case == "dup_columns":
        path.write_text("a,a\n1,2\n")
    elif case == "zip_several":
        path = _zip(tmp_path / "s.zip", {"a.csv": "a\n1\n", "b.csv": "b\n2\n"})
    elif case == "zip_none":
        path = _zip(tmp_path / "n.zip", {"readme.md": "hi"})
    elif case == "missing":
        path = tmp_path / "nope.csv"
    else:
        path.write_text("a\n1\n")
        name = "a/b" if case == "bad_name" else ".."
    return path, name


def test_bad_input_is_explained_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    before = cli("datasets", "list", "--json").stdout
    for case, needle in BAD_INPUTS.items():
        path, name = _bad_file(tmp_path, case)
        result = cli("datasets", "add", str(path), "--name", name)
        assert result.returncode == 2, (case, result.stderr)
        assert needle in result.stderr, (case, result.stderr)
        assert "hint:" in result.stderr, (case, result.stderr)
        assert "Traceback" not in result.stderr
    assert cli("datasets", "list", "--json").stdout == before


@pytest.mark.fulldata
def test_catalog_browse_and_offline_import(cli: Cli) -> None:
    cli("init")
    entries = _ok(cli("catalog", "list", "--json"))["entries"]
    assert "uci-diabetes-130" in {e["id"] for e in entries}
    shown = _ok(cli("catalog", "show", "uci-diabetes-130", "--json"))
    assert shown["license"].startswith("[Creative Commons Attribution 4.0")
    imported = _ok(cli("catalog", "import", "uci-diabetes-130", "--json"))
    assert (imported["rows"], imported["columns"], imported["downloaded"]) == (101766, 50, True)
    assert imported["attribution"]["sha256"].startswith("317d6d5a")
    again = _ok(cli("catalog", "import", "uci-diabetes-130", "--json"))
    assert (again["downloaded"], again["created"], again["version"]) == (False, False, 1)
    missing = cli("catalog", "show", "nope")
    assert missing.returncode == 4
    assert "catalog list" in missing.stderr
