"""``modelyard models …`` end to end, as a user types it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from modelyard.workspace import open_workspace
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def ok(result: CliResult) -> dict:  # type: ignore[type-arg]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def refused(result: CliResult, code: int, fragment: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    assert fragment in result.stderr
    assert "hint:" in result.stderr


def test_register_approve_compare_lineage(cli: Cli, tmp_path: Path, workspace_env: dict) -> None:  # type: ignore[type-arg]
    # set-up through the SDK (cheaper than more processes): a workspace with one dataset
    (tmp_path / "d.csv").write_text("age,gender,y\n30,F,0\n40,M,1\n50,F,0\n")
    ws = open_workspace(env=workspace_env, create=True)
    ws.datasets.add(tmp_path / "d.csv", name="diabetes")
    ws.close()
    ok(cli("experiments", "create", "exp", "--json"))
    run = ok(
        cli("runs", "create", "-e", "exp", "--param", "lr=0.1", "--metric", "auc=0.7", "--json")
    )
    (tmp_path / "model.txt").write_text("tree 0\n")
    (tmp_path / "model2.txt").write_text("tree 1\n")
    first = ok(
        cli(
            "models",
            "register",
            "churn",
            "--artifact",
            str(tmp_path / "model.txt"),
            "--framework",
            "lightgbm",
            "--param",
            "num_leaves=31",
            "--metric",
            "auc=0.71",
            "--metric",
            "brier=0.2",
            "--dataset",
            "diabetes@1",
            "--run",
            run["run_id"],
            "--column",
            "age:int64",
            "--column",
            "gender:str",
            "--json",
        )
    )
    assert (first["name"], first["version"], first["status"]) == ("churn", 1, "pending")
    assert len(first["artifacts"][0]["sha256"]) == 64
    assert first["artifacts"][0]["size_bytes"] == 7
    assert first["run_id"] == run["run_id"]
    assert first["datasets"] == ["diabetes@1"]
    assert first["input_schema"] == [
        {"name": "age", "type": "int64"},
        {"name": "gender", "type": "str"},
    ]
    second = ok(
        cli(
            "models",
            "register",
            "churn",
            "--artifact",
            str(tmp_path / "model2.txt"),
            "--metric",
            "auc=0.8",
            "--metric",
            "brier=nan",
            "--param",
            "num_leaves=63",
            "--json",
        )
    )
    assert second["version"] == 2
    approved = ok(cli("models", "approve", "churn@2", "--comment", "beats v1", "--json"))
    assert approved["status"] == "approved"
    assert approved["approval"]["by"] == "tester"
    assert approved["approval"]["comment"] == "beats v1"

    cmp = ok(cli("models", "compare", "churn@1", "churn@2", "--json"))
    metrics = {m["key"]: m for m in cmp["metrics"]}
    assert abs(metrics["auc"]["abs_diff"] - 0.09) < 1e-9
    assert metrics["brier"]["b"] == "nan"  # NaN is accepted and shown as such
    assert cmp["changed_params"] == ["num_leaves"]

    lineage = ok(cli("models", "lineage", "churn@1", "--json"))
    assert lineage["run_id"] == run["run_id"]
    assert lineage["datasets"] == [{"name": "diabetes", "version": 1}]
    assert lineage["run"]["experiment"] == "exp"

    human = cli("models", "show", "churn@2")
    assert human.returncode == 0
    assert "churn@2" in human.stdout
    assert "approved" in human.stdout


def test_bad_input_and_tampering(cli: Cli, tmp_path: Path, workspace_env: dict) -> None:  # type: ignore[type-arg]
    open_workspace(env=workspace_env, create=True).close()  # `init`, minus a process
    model = tmp_path / "model.txt"
    model.write_text("weights")
    refused(
        cli("models", "register", "m", "--artifact", str(tmp_path / "nope.txt")),
        2,
        "does not exist",
    )
    refused(cli("models", "register", "m", "--artifact", str(tmp_path)), 2, "is a folder")
    refused(
        cli(
            "models",
            "register",
            "m",
            "--artifact",
            str(model),
            "--metric",
            "a=1",
            "--metric",
            "a=2",
        ),
        2,
        "given twice",
    )
    listed = ok(cli("models", "list", "--json"))
    assert listed["models"] == []  # nothing half-registered

    ok(cli("models", "register", "m", "--artifact", str(model), "--json"))
    refused(cli("models", "show", "m@x"), 2, "not a number")
    refused(cli("models", "show", "ghost@1"), 4, "no model named 'ghost'")

    blobs = Path(workspace_env["MODELYARD_HOME"]) / "blobs"
    stored = [p for p in blobs.rglob("*") if p.is_file() and p.read_bytes() == b"weights"]
    assert len(stored) == 1
    stored[0].write_bytes(b"evil!!!")
    as_json = cli("models", "download", "m@1", "--to", str(tmp_path / "out"), "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"] == "ChecksumMismatchError"
    assert not (tmp_path / "out" / "model.txt").exists()
