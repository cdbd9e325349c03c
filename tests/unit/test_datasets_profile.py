"""Profiles against independent computations, the HTML report, comparison and the UCI data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from modelyard.datasets import profile as profiling
from modelyard.datasets.anomalies import Fence
from modelyard.workspace import Workspace


def _frame(rows: int = 500, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    return pl.DataFrame(
        {
            "encounter_id": rng.permutation(rows) + 1_000_000,
            "x": x,
            "y": 2 * x + rng.normal(scale=0.1, size=rows),
            "a": rng.choice(["u", "v"], size=rows),
            "b": rng.choice(["s", "t", "w"], size=rows),
        }
    )


def test_correlations_match_scipy() -> None:
    frame = _frame()
    summary = profiling.frame_summary(frame)
    profile = profiling.build_profile(frame, summary, {})
    pearson = profile["correlations"]["numeric"]
    assert pearson["columns"] == ["x", "y"]  # the identifier is left out
    expected = stats.pearsonr(frame["x"].to_numpy(), frame["y"].to_numpy()).statistic
    assert pearson["matrix"][0][1] == pytest.approx(expected, rel=1e-9)
    cramer = profile["correlations"]["categorical"]
    table = (
        pl.DataFrame({"a": frame["a"], "b": frame["b"]})
        .pivot(on="b", index="a", values="b", aggregate_function="len")
        .fill_null(0)
        .drop("a")
        .to_numpy()
    )
    expected_v = stats.contingency.association(table, method="cramer")
    assert cramer["matrix"][0][1] == pytest.approx(expected_v, rel=1e-9)


def test_fences_match_numpy() -> None:
    values = np.array([1, 2, 2, 3, 4, 7, 9, 30], dtype=float)
    fence = profiling.fences(profiling.frame_summary(pl.DataFrame({"v": values})))["v"]
    median = float(np.median(values))
    assert fence.median == pytest.approx(median)
    mad = np.sort(np.abs(values - median))
    assert fence.mad in (mad[len(mad) // 2 - 1], mad[len(mad) // 2])
    assert isinstance(fence, Fence)


def test_identifier_detection() -> None:
    summary = profiling.frame_summary(_frame())
    flags = {c.name: profiling.is_identifier(c) for c in summary.columns.values()}
    assert flags == {"encounter_id": True, "x": False, "y": False, "a": False, "b": False}


def test_html_is_self_contained_and_withholds_identifiers() -> None:
    frame = _frame()
    summary = profiling.frame_summary(frame)
    meta = {
        "name": "d",
        "version": 1,
        "content_hash": "0" * 64,
        "format": "csv",
        "created_at": "2026-01-01T00:00:00+00:00",
        "created_by": "me",
    }
    page = profiling.render_html(profiling.build_profile(frame, summary, {}), meta)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"(src|href)=", page)
    assert page.count('<div class="col">') == frame.width
    for value in frame["encounter_id"].head(50).to_list():
        assert str(value) not in page


@pytest.mark.fulldata
def test_uci_import_profile_and_anomalies(workspace: Workspace, tmp_path: Path) -> None:
    result = workspace.catalog.import_("uci-diabetes-130")
    assert (result.version.rows, result.version.columns) == (101766, 50)
    frame = workspace.datasets.load("uci-diabetes-130")
    assert frame["admission_type_id"].dtype == pl.String
    assert set(frame["A1Cresult"].unique().to_list()) == {"None", ">7", ">8", "Norm"}
    assert frame["weight"].null_count() == 98569
    page = workspace.datasets.profile_html("uci-diabetes-130")
    assert len(page.encode()) < 2_000_000
    assert page.count('<div class="col">') == 50
    for identifier in frame["encounter_id"].head(200).to_list():
        assert f">{identifier}<" not in page
        assert f" {identifier}" not in page
    kinds = {(a.kind, a.column) for a in workspace.datasets.anomalies("uci-diabetes-130")}
    assert ("missing", "weight") in kinds
    summary = workspace.datasets.summary("uci-diabetes-130")
    age = next(c for c in summary["columns"] if c["name"] == "time_in_hospital")
    values = frame["time_in_hospital"].to_numpy()
    assert age["numeric"]["mean"] == pytest.approx(values.mean())
    assert age["numeric"]["std"] == pytest.approx(values.std(ddof=1))
