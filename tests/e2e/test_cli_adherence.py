"""The adherence use case and pipelines from the command line, as a user types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import CliResult
from tests.uci import uci_raw_csv

Cli = Callable[..., CliResult]


@pytest.fixture
def sample_csv(tmp_path: Path) -> Path:
    path = tmp_path / "encounters.csv"
    path.write_text(uci_raw_csv(2500))
    return path


def test_train_predict_logs(cli: Cli, sample_csv: Path, tmp_path: Path) -> None:
    trained = cli("adherence", "train", "--data", str(sample_csv), "--json")
    assert trained.returncode == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["model"] == "adherence"
    assert result["version"] == 1
    assert 0.0 <= result["metrics"]["test"]["auc_roc"] <= 1.0

    batch = tmp_path / "batch.csv"
    pl.read_csv(sample_csv, infer_schema=False).slice(2000, 300).write_csv(batch)
    out = tmp_path / "pred.parquet"
    predicted = cli(
        "adherence",
        "predict",
        "--model",
        "adherence@1",
        "--data",
        str(batch),
        "--out",
        str(out),
        "--level",
        "encounter",
        "--json",
    )
    assert predicted.returncode == 0, predicted.stderr
    meta = json.loads(predicted.stdout)
    frame = pl.read_parquet(out)
    assert frame.height == meta["rows_out"] == 300
    assert set(frame.get_column("model_version")) == {"adherence@1"}
    assert meta["drift_report_id"]

    logs = json.loads(cli("pipelines", "logs", result["run_id"], "--json").stdout)
    steps = [(e["step"], e["event"]) for e in logs["events"]]
    assert ("train", "succeeded") in steps
    assert steps[-1] == ("pipeline", "run_succeeded")
    followed = cli("pipelines", "logs", result["run_id"], "--follow")
    assert "run_succeeded" in followed.stdout
    runs = json.loads(cli("pipelines", "list", "--json").stdout)["runs"]
    assert [r["kind"] for r in runs] == ["inference", "training"]
    shown = json.loads(cli("pipelines", "show", meta["run_id"], "--json").stdout)
    assert shown["status"] == "succeeded"


def test_bad_input_is_a_clear_error(cli: Cli, sample_csv: Path, tmp_path: Path) -> None:
    missing = cli("adherence", "train", "--data", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "no data file" in missing.stderr
    unknown = cli(
        "adherence",
        "predict",
        "--model",
        "ghost@3",
        "--data",
        str(sample_csv),
        "--out",
        str(tmp_path / "o.parquet"),
    )
    assert unknown.returncode == 4
    assert "Traceback" not in unknown.stderr
    label = tmp_path / "label.yaml"
    label.write_text("label:\n  column: pdc\n  rule: lt\n  value: 0.8\n")
    bad_label = cli("adherence", "train", "--data", str(sample_csv), "--label-config", str(label))
    assert bad_label.returncode != 0
    assert "pdc" in bad_label.stderr
    assert "hint:" in bad_label.stderr
    assert "Traceback" not in bad_label.stderr
    config = tmp_path / "p.yaml"
    config.write_text("kind: training\ndata: {}\n")
    bad_config = cli("pipelines", "run", "training", "--config", str(config))
    assert bad_config.returncode == 2
    assert "exactly one of 'dataset' or 'path'" in bad_config.stderr
    assert cli("pipelines", "show", "deadbeef").returncode == 4


@pytest.mark.fulldata
def test_quickstart_end_to_end(cli: Cli) -> None:
    done = cli("quickstart", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["dataset"]["rows"] == 101_766
    assert summary["model"]["status"] == "approved"
    assert summary["model"]["test_metrics"]["auc_roc"] >= 0.66
    clean, shifted = summary["batches"]
    assert clean["alarm"]["state"] == "OK"
    assert shifted["alarm"]["state"] == "ALARM"
    assert shifted["dataset_drift"] is True
    assert shifted["drift_score"] > clean["drift_score"]
    for path in [summary["dataset"]["profile_html"], clean["drift_report_html"]]:
        text = Path(path).read_text()
        assert "<svg" in text
        assert "<script src" not in text
    assert cli("audit", "verify").returncode == 0
    # a second run on the same workspace downloads nothing and trains version 2
    again = json.loads(cli("quickstart", "--json").stdout)
    assert again["dataset"]["downloaded"] is False
    assert again["model"]["version"] == 2


def test_publish_history_twice_writes_once(cli: Cli, sample_csv: Path) -> None:
    first = cli("adherence", "publish-history", "--data", str(sample_csv), "--json")
    assert first.returncode == 0, first.stderr
    done = json.loads(first.stdout)
    assert done["group"] == "adherence_patient_history"
    assert done["published"] is True
    assert done["encounters"] == 2500
    assert done["snapshots"] >= 2500
    again = json.loads(
        cli("adherence", "publish-history", "--data", str(sample_csv), "--json").stdout
    )
    assert again["published"] is False
    got = cli("features", "get", "adherence_patient_history", "8222157", "--json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["entities"][0]["features"]["prior_encounters"] >= 1


def test_bad_history_options_are_refused(cli: Cli, sample_csv: Path) -> None:
    bad = cli("adherence", "train", "--data", str(sample_csv), "--history", "magic")
    assert bad.returncode == 2
    assert "--history must be feature-store or batch" in bad.stderr
    neither = cli("adherence", "publish-history")
    assert neither.returncode == 2
    assert "exactly one of --data FILE or --dataset" in neither.stderr
    unknown = cli("adherence", "publish-history", "--dataset", "nope@1", "--json")
    assert unknown.returncode == 4, unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_score_reads_history_online(cli: Cli, sample_csv: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(sample_csv, infer_schema=False)
    ids = frame.get_column("encounter_id").cast(pl.Int64)
    past = tmp_path / "past.csv"
    frame.filter(ids < ids.quantile(0.9)).write_csv(past)
    new = frame.filter(ids >= ids.quantile(0.9))
    assert cli("adherence", "train", "--data", str(past), "--json").returncode == 0
    one = tmp_path / "one.csv"
    new.head(1).write_csv(one)
    scored = cli("adherence", "score", "--model", "adherence@latest", "--data", str(one), "--json")
    assert scored.returncode == 0, scored.stderr
    doc = json.loads(scored.stdout)
    assert doc["model"] == "adherence@1"
    assert doc["level"] == "encounter"
    rows = doc["predictions"]
    assert len(rows) == 1
    assert 0.0 <= rows[0]["probability"] <= 1.0
    assert rows[0]["model_version"] == "adherence@1"
    assert len(rows[0]["risk_factors"]) == 5
    shown = cli("adherence", "score", "--model", "adherence@1", "--data", str(one))
    assert shown.returncode == 0, shown.stderr
    assert "1 predictions by adherence@1" in shown.stdout
    # scoring stores nothing
    runs = json.loads(cli("pipelines", "list", "--json").stdout)["runs"]
    assert [r["kind"] for r in runs] == ["training"]
    lineage = cli("models", "lineage", "adherence@1")
    assert "features adherence_patient_history:v1" in lineage.stdout
    missing = cli("adherence", "score", "--model", "adherence@9", "--data", str(one))
    assert missing.returncode == 4
    assert "Traceback" not in missing.stderr
