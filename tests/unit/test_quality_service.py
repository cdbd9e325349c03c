"""The monitor service and the check runner: storage, retrieval, bad input, no raw rows."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from modelyard.errors import (
    BaselineNotFoundError,
    ChecksumMismatchError,
    InvalidInputError,
    ReportNotFoundError,
)
from modelyard.quality.model import Baseline, DriftReport
from modelyard.quality.monitoring import build_baseline, run_check
from tests.properties.quality_support import monitor_stack
from tests.uci import uci_zip

RNG = np.random.default_rng(5)
REF = pl.DataFrame(
    {
        "age": RNG.integers(20, 90, 500),
        "dose": RNG.normal(10, 2, 500),
        "drug": RNG.choice(["metformin", "insulin", "glipizide"], 500).tolist(),
        "note": [f"secret-note-{i:05d}" for i in range(500)],
    }
)


def test_baseline_revisions_and_lookup() -> None:
    stack = monitor_stack()
    first = stack.monitor.create_baseline(REF, model="adherence", version=2, source="train.csv")
    second = stack.monitor.create_baseline(REF.head(100), model="adherence", version=2)
    other = stack.monitor.create_baseline(REF, model="adherence", version=10)
    assert (first.revision, second.revision, other.revision) == (1, 2, 1)
    info, baseline = stack.monitor.get_baseline("adherence", 2)
    assert info.id == second.id
    assert baseline.rows == 100
    latest, _ = stack.monitor.get_baseline("adherence")
    assert latest.version == "10"  # numeric versions sort as numbers
    assert [b.version for b in stack.monitor.list_baselines("adherence")] == ["2", "2", "10"]
    with pytest.raises(BaselineNotFoundError):
        stack.monitor.get_baseline("adherence", 3)
    with pytest.raises(BaselineNotFoundError):
        stack.monitor.check(REF, model="nobody")
    with pytest.raises(InvalidInputError):
        stack.monitor.create_baseline(REF, model="bad name", version=1)
    with pytest.raises(InvalidInputError):
        stack.monitor.create_baseline(REF.head(0), model="m", version=1)


def test_merged_baseline_can_be_saved_and_used() -> None:
    stack = monitor_stack()
    merged = Baseline.merge_all([build_baseline(REF.head(250)), build_baseline(REF.tail(250))])
    stack.monitor.save_baseline(merged, model="m", version=1)
    _, back = stack.monitor.get_baseline("m", 1)
    assert back.to_dict() == build_baseline(REF).to_dict() or back.rows == 500
    assert back.summary.columns["dose"].numeric.mean == pytest.approx(REF["dose"].mean())  # type: ignore[union-attr]


def test_reports_are_stored_verified_and_hold_no_raw_rows() -> None:
    stack = monitor_stack()
    stack.monitor.create_baseline(REF, model="m", version=1)
    cur = REF.with_columns(pl.col("dose") + 5)
    report = stack.monitor.check(cur, model="m", version=1, batch_id="2026-01")
    assert "dose" in report.drifted_features
    html = stack.monitor.get_report_html(report.id or "")
    text = json.dumps(stack.monitor.get_report(report.id or "").to_dict())
    for value in REF["note"].to_list()[:50]:
        assert value not in html
        assert value not in text
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.index("dose") < html.index("age")  # drifted features first
    # tampering with the stored JSON is detected on read
    info = stack.monitor.report_info(report.id or "")
    key = f"cas/sha256/{info.json_sha256[:2]}/{info.json_sha256}"
    stack.blobs.put(key, b"{}")
    with pytest.raises(ChecksumMismatchError):
        stack.monitor.get_report(report.id or "")
    with pytest.raises(ReportNotFoundError):
        stack.monitor.get_report("nope")
    with pytest.raises(InvalidInputError):
        stack.monitor.list_reports(batch_id="2026-01")


@pytest.mark.parametrize("rows", [0, 1])
def test_tiny_batches_are_reported_not_raised(rows: int) -> None:
    report = run_check(build_baseline(REF), REF.head(rows))
    body = report.to_dict()
    json.dumps(body, allow_nan=False)
    assert body["current_rows"] == rows
    assert body["notes"]
    if rows == 0:
        assert not any(f["tested"] for f in body["features"])
        assert all(f["reason"] for f in body["features"])
        assert body["dataset_drift"] is False


def test_different_columns_type_change_and_all_missing() -> None:
    cur = REF.drop("drug").with_columns(
        pl.col("age").cast(pl.String),
        pl.lit(None, dtype=pl.Float64).alias("dose"),
        pl.lit(1).alias("extra"),
    )
    report = run_check(build_baseline(REF), cur)
    body = report.to_dict()
    assert body["missing_columns"] == ["drug"]
    assert body["extra_columns"] == ["extra"]
    reasons = {n["column"]: n["reason"] for n in body["not_tested"]}
    assert reasons["drug"] == "missing from the current data"
    assert reasons["age"].startswith("type changed")
    assert "all missing" in reasons["dose"]
    assert any("extra" in note for note in body["notes"])
    again = DriftReport.from_dict(json.loads(json.dumps(body)))
    assert again.to_dict() == body


def test_baseline_document_is_checked() -> None:
    with pytest.raises(InvalidInputError):
        Baseline.from_dict({"format": "something else"})
    with pytest.raises(InvalidInputError):
        DriftReport.from_dict({})


@pytest.mark.fulldata
def test_uci_halves_full_check(tmp_path: Path) -> None:
    with zipfile.ZipFile(uci_zip()) as zf:
        member = next(n for n in zf.namelist() if n.endswith("diabetic_data.csv"))
        csv = tmp_path / "uci.csv"
        csv.write_bytes(zf.read(member))
    coded = ["admission_type_id", "discharge_disposition_id", "admission_source_id"]
    frame = pl.read_csv(
        csv,
        null_values=["?"],
        infer_schema_length=None,
        schema_overrides=dict.fromkeys(coded, pl.String),
    ).drop(["encounter_id", "patient_nbr"])
    half = frame.height // 2
    report = run_check(build_baseline(frame[:half]), frame[half:])
    body = report.to_dict()
    json.dumps(body, allow_nan=False)
    assert len(body["features"]) == 48
    assert all(f["tested"] for f in body["features"])
    methods = {f["column"]: f["method"] for f in body["features"]}
    assert methods["num_lab_procedures"] == "wasserstein"
    assert methods["A1Cresult"] == "jensen_shannon"
    medical = next(f for f in body["features"] if f["column"] == "medical_specialty")
    assert medical["drifted"]  # encounter order is time: the later half records specialty more
    gender = next(f for f in body["features"] if f["column"] == "gender")
    assert not gender["drifted"]
    assert body["quality"]["rows_cur"] == frame.height - half
