"""The adherence pipelines on the feature store: training publishes the patient history and
reads it point in time; inference reads it online; the model version pins the group version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from modelyard.adherence import TrainedModel, load_uci, predict
from modelyard.adherence.history import GROUP_FEATURES, HISTORY_GROUP, batch_history
from modelyard.pipelines.config import DataSource, InferenceConfig, TrainingConfig
from modelyard.pipelines.service import TrainingResult
from modelyard.workspace import Workspace
from tests.uci import uci_zip


@pytest.fixture(scope="module")
def returning() -> pl.DataFrame:
    """Encounters of ~1,500 patients seen at least twice (real UCI rows), id order."""
    full = load_uci(uci_zip())
    repeat = full.group_by("patient_nbr").len().filter(pl.col("len") >= 2)
    keep = repeat.sort("patient_nbr").head(1500).get_column("patient_nbr")
    return full.filter(pl.col("patient_nbr").is_in(keep.implode())).sort("encounter_id")


def split(frame: pl.DataFrame, share: float = 0.7) -> tuple[pl.DataFrame, pl.DataFrame]:
    cut = frame.get_column("encounter_id").quantile(share)
    return (
        frame.filter(pl.col("encounter_id") <= cut),
        frame.filter(pl.col("encounter_id") > cut),
    )


def train_config(path: Path, **features: object) -> TrainingConfig:
    return TrainingConfig.model_validate(
        {
            "data": {"path": str(path), "name": "returning"},
            "adherence": {"features": features} if features else {},
        }
    )


def train_on_past(
    workspace: Workspace, returning: pl.DataFrame, folder: Path
) -> tuple[TrainingResult, pl.DataFrame, pl.DataFrame]:
    """Train (feature-store history) on the first 70% of encounters; return the rest too."""
    past, later = split(returning)
    path = folder / "past.parquet"
    past.write_parquet(path)
    return workspace.pipelines.run_training(train_config(path)), past, later


def test_training_publishes_reads_point_in_time_and_pins(
    workspace: Workspace, returning: pl.DataFrame, tmp_path: Path
) -> None:
    result, past, later = train_on_past(workspace, returning, tmp_path)

    # the group exists, holds the training data's history, and is online
    versions = workspace.features.list_versions(HISTORY_GROUP)
    assert [v.version for v in versions] == [1]
    ingestions = workspace.features.ingestions(HISTORY_GROUP)
    assert len(ingestions) == 1
    assert ingestions[0].source == "dataset:returning@1"
    pins = workspace.pipelines.feature_pins("adherence", result.version)
    assert [p.ref for p in pins] == [f"{HISTORY_GROUP}:v1"]
    steps = [e.step for e in workspace.pipelines.logs(result.run_id)]
    assert "publish_history" in steps
    lineage = workspace.lineage.of_version("adherence", result.version).to_dict()
    assert [(g["group"], g["version"]) for g in lineage["feature_groups"]] == [(HISTORY_GROUP, 1)]

    # training again on the same dataset version writes nothing new to the store
    again = workspace.pipelines.run_training(
        TrainingConfig.model_validate({"data": {"dataset": "returning@1"}})
    )
    assert len(workspace.features.ingestions(HISTORY_GROUP)) == 1
    assert again.version == result.version + 1

    # inference on the later encounters reads the stored history plus the batch's own
    batch_path = tmp_path / "later.parquet"
    later.write_parquet(batch_path)
    out = workspace.pipelines.run_inference(
        InferenceConfig(
            model=f"adherence@{result.version}",
            data=DataSource(path=str(batch_path)),
            level="encounter",
            risk_factors=False,
        )
    )
    _, stored = workspace.pipelines.get_predictions(out.id)
    artifacts = workspace.registry.load_artifacts("adherence", result.version)
    artifacts.pop("baseline.json")
    model = TrainedModel.from_artifacts(artifacts)
    whole = batch_history(returning).with_columns(returning["encounter_id"])
    expect_history = (
        later.select("encounter_id")
        .join(whole, on="encounter_id", how="left")
        .select(GROUP_FEATURES)
    )
    expected = predict(model, later, level="encounter", risk_factors=False, history=expect_history)
    assert_frame_equal(
        stored.select("encounter_id", "probability").sort("encounter_id"),
        expected.select("encounter_id", "probability").sort("encounter_id"),
    )
    # and the stored history changes predictions: the batch alone does not know the past
    alone = predict(model, later, level="encounter", risk_factors=False)
    assert (alone["probability"] - expected["probability"]).abs().max() > 1e-6

    # real time: one new encounter of a returning patient, history read online
    firsts = later.filter(
        pl.col("encounter_id") == pl.col("encounter_id").min().over("patient_nbr")
    ).filter(pl.col("patient_nbr").is_in(past["patient_nbr"].implode()))
    one = firsts.head(1)
    ref = f"adherence@{result.version}"
    now = workspace.pipelines.predict_realtime(ref, one, level="encounter")
    want = expected.filter(pl.col("encounter_id") == one["encounter_id"][0])
    assert now["probability"][0] == pytest.approx(want["probability"][0], abs=1e-12)
    brands = workspace.pipelines.predict_realtime(ref, one, risk_factors=False)
    assert brands.height == max(1, int(now["n_brands"][0]))
    assert set(now["model_version"]) == {f"adherence@{result.version}"}


def test_batch_history_config_leaves_the_store_alone(
    workspace: Workspace, returning: pl.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "data.parquet"
    returning.write_parquet(path)
    result = workspace.pipelines.run_training(train_config(path, history="batch"))
    assert workspace.features.list_groups() == []
    assert workspace.pipelines.feature_pins("adherence", result.version) == []


def test_a_tampered_pin_is_refused_at_inference(
    workspace: Workspace, returning: pl.DataFrame, tmp_path: Path
) -> None:
    result, _, later = train_on_past(workspace, returning, tmp_path)
    pin = workspace.pipelines.feature_pins("adherence", result.version)[0].to_dict()
    pin["fingerprint"] = "0" * 64
    workspace.registry.set_tag("adherence", result.version, "feature_pins", json.dumps([pin]))
    batch_path = tmp_path / "later.parquet"
    later.write_parquet(batch_path)
    from modelyard.errors import PipelineError

    with pytest.raises(PipelineError) as info:
        workspace.pipelines.run_inference(
            InferenceConfig(model="adherence@1", data=DataSource(path=str(batch_path)))
        )
    assert info.value.step == "read_history"
    assert "fingerprint" in str(info.value.__cause__)

    workspace.registry.set_tag("adherence", result.version, "feature_pins", "not json")
    with pytest.raises(PipelineError) as info:
        workspace.pipelines.run_inference(
            InferenceConfig(model="adherence@1", data=DataSource(path=str(batch_path)))
        )
    assert info.value.step == "read_history"
    assert "is not a list of feature group pins" in str(info.value.__cause__)


def _publish_in_process(home: str, path: str, source: str, go: Any) -> None:
    import modelyard
    from modelyard.adherence import load_uci as load
    from modelyard.adherence.store import PatientHistoryStore

    ws = modelyard.open_workspace(env={"MODELYARD_HOME": home, "MODELYARD_USER": source})
    frame = load(path)
    go.wait()
    PatientHistoryStore(ws.features).publish(frame, source=source)
    ws.close()


def test_two_processes_publishing_at_once(
    workspace: Workspace, workspace_env: dict[str, str], returning: pl.DataFrame, tmp_path: Path
) -> None:
    """Two pipelines publish the same data at the same moment: both succeed, one group
    version, and the store reads back exactly the history of the data."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    path = tmp_path / "data.parquet"
    returning.write_parquet(path)
    go = ctx.Event()
    procs = [
        ctx.Process(
            target=_publish_in_process,
            args=(workspace_env["MODELYARD_HOME"], str(path), f"writer-{i}", go),
        )
        for i in range(2)
    ]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert [v.version for v in workspace.features.list_versions(HISTORY_GROUP)] == [1]
    from modelyard.adherence.store import PatientHistoryStore

    store = PatientHistoryStore(workspace.features)
    pin = store.ensure()
    assert_frame_equal(store.point_in_time(returning, pin), batch_history(returning))


def test_losing_the_race_to_create_the_group_is_retried(
    workspace: Workspace, workspace_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer creates the group between our plan and our write: the write is refused
    by the store's condition, and ensure() plans again and finds the group."""
    import modelyard
    from modelyard.adherence.history import history_spec
    from modelyard.adherence.store import PatientHistoryStore

    other = modelyard.open_workspace(env={**workspace_env, "MODELYARD_USER": "other"})
    service = workspace.features
    real_plan = service.plan
    raced: list[bool] = []

    def plan_then_lose(specs: Any) -> Any:
        items = real_plan(specs)
        if not raced:
            raced.append(True)
            other.features.apply([history_spec()])  # the other writer wins meanwhile
        return items

    monkeypatch.setattr(service, "plan", plan_then_lose)
    pin = PatientHistoryStore(service).ensure()
    assert raced == [True]
    assert pin.version == 1
    assert [v.created_by for v in service.list_versions(HISTORY_GROUP)] == ["other"]
    other.close()


def test_a_publication_that_fails_halfway_is_completed_by_the_next(
    workspace: Workspace, returning: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encounters are written, then the history write fails: the history is one
    publication behind; publishing the same data again brings it up to date."""
    from modelyard.adherence.store import PatientHistoryStore
    from modelyard.errors import StorageError

    past, later = split(returning)
    service = workspace.features
    store = PatientHistoryStore(service)
    store.publish(past, source="past")
    real_ingest = service.ingest

    def history_write_fails(name: str, data: Any, **kw: Any) -> Any:
        if name == HISTORY_GROUP:
            raise StorageError("disk full (simulated)")
        return real_ingest(name, data, **kw)

    monkeypatch.setattr(service, "ingest", history_write_fails)
    with pytest.raises(StorageError):
        store.publish(later, source="later")
    monkeypatch.setattr(service, "ingest", real_ingest)
    pin = store.ensure()
    # one publication behind: the later encounters are not in the history yet
    assert_frame_equal(store.point_in_time(past, pin), batch_history(past))
    assert not store.point_in_time(returning, pin).equals(batch_history(returning))
    store.publish(later, source="later")
    assert_frame_equal(store.point_in_time(returning, pin), batch_history(returning))
