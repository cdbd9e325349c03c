"""``modelyard monitor|alarms|metrics`` as a user types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.conftest import CliResult

Cli = Callable[..., CliResult]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    n = 400

    def frame(shift: float, n: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "age": rng.integers(20, 90, n),
                "dose": (rng.normal(10 + shift, 2, n)).round(3),
                "drug": rng.choice(["metformin", "insulin", "?"], n).tolist(),
                "readmitted": rng.choice(["NO", ">30", "<30"], n).tolist(),
            }
        )

    out = {
        "ref": tmp_path / "ref.csv",
        "same": tmp_path / "same.csv",
        "drifted": tmp_path / "drifted.parquet",
        "empty": tmp_path / "empty.csv",
        "fewer": tmp_path / "fewer.csv",
    }
    frame(0, n).write_csv(out["ref"])
    frame(0, 300).write_csv(out["same"])
    frame(4, 300).write_parquet(out["drifted"])
    out["empty"].write_text("")
    frame(0, 50).drop("drug").write_csv(out["fewer"])
    return out


def test_drift_standalone_json(cli: Cli, files: dict[str, Path], tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    result = cli(
        "monitor", "drift", "--reference", str(files["ref"]), "--current",
        str(files["drifted"]), "--missing-token", "?", "--html", str(html), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["dataset_drift"] is False
    assert body["drift_score"] == 0.25
    features = {f["column"]: f for f in body["features"]}
    assert set(features) == {"age", "dose", "drug", "readmitted"}
    assert features["dose"]["drifted"]
    assert features["dose"]["method"] == "ks"
    for f in features.values():
        assert {"method", "score", "p_value", "drifted"} <= f.keys()
    assert features["drug"]["missing_rate_ref"] > 0.2  # '?' read as missing
    assert "<svg" in html.read_text()
    human = cli(
        "monitor", "drift", "--reference", str(files["ref"]), "--current", str(files["same"])
    )
    assert human.returncode == 0
    assert "no drift" in human.stdout


def test_drift_bad_input_is_an_error_not_a_traceback(cli: Cli, files: dict[str, Path]) -> None:
    empty = cli(
        "monitor", "drift", "--reference", str(files["ref"]), "--current", str(files["empty"])
    )
    assert empty.returncode == 2
    assert "error:" in empty.stderr
    assert "Traceback" not in empty.stderr
    fewer = cli(
        "monitor", "drift", "--reference", str(files["ref"]), "--current", str(files["fewer"]),
        "--json",
    )  # fmt: skip
    assert fewer.returncode == 0, fewer.stderr
    assert json.loads(fewer.stdout)["missing_columns"] == ["drug"]
    bad_method = cli(
        "monitor", "drift", "--reference", str(files["ref"]), "--current", str(files["same"]),
        "--method", "dose=magic",
    )  # fmt: skip
    assert bad_method.returncode == 2
    assert "hint:" in bad_method.stderr


def test_baseline_check_reports_metrics_alarms(
    cli: Cli, files: dict[str, Path], tmp_path: Path
) -> None:
    assert cli("init").returncode == 0
    created = cli(
        "alarms", "create", "drift-high", "--metric", "DriftScore", "--threshold", "0.2",
        "--dimension", "model=adherence", "--dimension", "version=1", "--period", "60",
        "--action", "ALARM=log", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["state"] == "INSUFFICIENT_DATA"
    base = cli(
        "monitor", "baseline", "--model", "adherence", "--version", "1", "--data",
        str(files["ref"]), "--missing-token", "?", "--json",
    )  # fmt: skip
    assert base.returncode == 0, base.stderr
    assert json.loads(base.stdout)["rows"] == 400
    check = cli(
        "monitor", "check", "--model", "adherence", "--data", str(files["drifted"]),
        "--batch-id", "week-1", "--json",
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["model"] == "adherence"
    assert report["batch_id"] == "week-1"
    assert [t["new_state"] for t in report["alarm_transitions"]] == ["ALARM"]
    listed = json.loads(cli("monitor", "reports", "--model", "adherence", "--json").stdout)
    assert [r["id"] for r in listed["reports"]] == [report["id"]]
    by_batch = json.loads(
        cli("monitor", "reports", "--model", "adherence", "--batch-id", "week-1", "--json").stdout
    )
    assert len(by_batch["reports"]) == 1
    html = tmp_path / "stored.html"
    shown = cli("monitor", "show", report["id"], "--html", str(html), "--json")
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["id"] == report["id"]
    assert html.read_text().startswith("<!doctype html>")
    metrics = json.loads(
        cli(
            "metrics",
            "query",
            "--metric",
            "DriftScore",
            "--dimension",
            "model=adherence",
            "--dimension",
            "version=1",
            "--period",
            "60",
            "--json",
        ).stdout
    )
    assert metrics["datapoints"][0]["Maximum"] == report["drift_score"]
    assert json.loads(cli("alarms", "show", "drift-high", "--json").stdout)["state"] == "ALARM"
    history = json.loads(cli("alarms", "history", "drift-high", "--json").stdout)
    assert history["transitions"][0]["new_state"] == "ALARM"
    assert history["transitions"][0]["actions"][0]["target"] == "log"
    for human in (("alarms", "list"), ("metrics", "list")):
        listed_human = cli(*human)
        assert listed_human.returncode == 0
        assert "drift" in listed_human.stdout.lower()


def test_not_found_and_bad_alarm(cli: Cli, files: dict[str, Path]) -> None:
    cli("init")
    missing = cli("monitor", "check", "--model", "ghost", "--data", str(files["same"]))
    assert missing.returncode == 4
    assert "hint:" in missing.stderr
    bad = cli("alarms", "create", "x", "--metric", "m", "--threshold", "1", "--comparison", "Big")
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert cli("monitor", "show", "nope", "--json").returncode == 4
