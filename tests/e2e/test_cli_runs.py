"""``modelyard experiments …`` and ``modelyard runs …`` end to end."""

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


def test_runs_create_search_show_compare(
    cli: Cli, tmp_path: Path, workspace_env: dict[str, str]
) -> None:
    open_workspace(env=workspace_env, create=True).close()  # `init`, minus a process
    ok(cli("experiments", "create", "exp", "--description", "first", "--json"))
    art = tmp_path / "notes.txt"
    art.write_text("hello")
    a = ok(
        cli(
            "runs",
            "create",
            "-e",
            "exp",
            "--param",
            "model=lgbm",
            "--metric",
            "auc=0.7",
            "--tag",
            "team=risk",
            "--artifact",
            str(art),
            "--json",
        )
    )
    b = ok(
        cli(
            "runs",
            "create",
            "-e",
            "exp",
            "--param",
            "model=lr",
            "--metric",
            "auc=0.6",
            "--metric",
            "loss=inf",
            "--json",
        )
    )
    assert a["status"] == "finished"
    assert a["params"] == {"model": "lgbm"}
    assert a["tags"] == {"team": "risk"}
    assert len(a["artifacts"]["notes.txt"]["sha256"]) == 64
    assert b["metrics"]["loss"] == "inf"

    found = ok(cli("runs", "search", "metrics.auc > 0.65 and params.model = 'lgbm'", "--json"))
    assert [r["run_id"] for r in found["runs"]] == [a["run_id"]]
    ordered = ok(
        cli(
            "runs",
            "search",
            "",
            "--order-by",
            "metrics.auc asc",
            "--limit",
            "1",
            "-e",
            "exp",
            "--json",
        )
    )
    assert [r["run_id"] for r in ordered["runs"]] == [b["run_id"]]

    shown = ok(cli("runs", "show", a["run_id"], "--json"))
    assert shown["metrics"] == {"auc": 0.7}
    assert shown["metric_points"] == {"auc": 1}

    cmp = ok(cli("runs", "compare", a["run_id"], b["run_id"], "--json"))
    assert cmp["params"]["model"] == ["lgbm", "lr"]
    assert cmp["metrics"]["auc"] == [0.7, 0.6]
    assert cmp["differing_params"] == ["model"]


def test_bad_filters_and_input(cli: Cli, workspace_env: dict[str, str]) -> None:
    open_workspace(env=workspace_env, create=True).close()  # `init`, minus a process
    bad = cli("runs", "search", "metrics.auc > 'high'")
    assert bad.returncode == 2
    assert "column 15" in bad.stderr
    assert "^" in bad.stderr
    assert "Traceback" not in bad.stderr
    as_json = cli("runs", "search", "(metrics.auc > 1", "--json")
    assert json.loads(as_json.stdout)["column"] == 17
    missing = cli("runs", "create", "-e", "ghost", "--metric", "a=1")
    assert missing.returncode == 4
    assert "experiments create ghost" in missing.stderr
