"""Tracking service contract, run on every RecordStore adapter (memory and sqlite)."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.errors import (
    AlreadyExistsError,
    ArtifactNotFoundError,
    ChecksumMismatchError,
    ConflictError,
    ExperimentNotFoundError,
    FilterSyntaxError,
    InvalidInputError,
    RunNotFoundError,
)
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore
from modelyard.storage.records import RecordStore
from modelyard.tracking import RunStatus, TrackingService


def make_tracking(records: RecordStore, **kw: float) -> tuple[TrackingService, MemoryBlobStore]:
    blobs = MemoryBlobStore()
    guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("alice"))
    return TrackingService(records, ContentStore(blobs), guard, **kw), blobs  # type: ignore[arg-type]


@pytest.fixture
def tracking(records: RecordStore) -> TrackingService:
    svc, _ = make_tracking(records)
    svc.create_experiment("exp")
    return svc


def test_experiments(tracking: TrackingService) -> None:
    tracking.create_experiment("other", description="second")
    assert [e.name for e in tracking.list_experiments()] == ["exp", "other"]
    assert tracking.get_experiment("other").description == "second"
    assert tracking.get_experiment("other").created_by == "alice"
    with pytest.raises(AlreadyExistsError):
        tracking.create_experiment("exp")
    assert tracking.create_experiment("exp", exist_ok=True).name == "exp"
    with pytest.raises(ExperimentNotFoundError):
        tracking.get_experiment("nope")
    for bad in ("a/b", "x\ny", "", "../up"):
        with pytest.raises(InvalidInputError):
            tracking.create_experiment(bad)


def test_run_lifecycle_and_readback(tracking: TrackingService, tmp_path: Path) -> None:
    art = tmp_path / "plot.png"
    art.write_bytes(b"\x89PNG fake")
    with tracking.start_run("exp", params={"model": "lgbm", "lr": 0.1}, tags={"t": "1"}) as run:
        assert tracking.get_run(run.run_id).status is RunStatus.RUNNING
        for step in range(5):
            run.log_metric("loss", 1.0 / (step + 1))
        run.log_metric("auc", 0.7, step=10)
        run.log_metric("auc", 0.6, step=3)  # an older step does not replace the latest
        run.log_param("extra", 3)
        run.set_tag("t", "2")
        ref = run.log_artifact(art)
    got = tracking.get_run(run.run_id)
    assert got.status is RunStatus.FINISHED
    assert got.end_time is not None
    assert got.end_time >= got.start_time
    assert got.params == {"model": "lgbm", "lr": "0.1", "extra": "3"}
    assert got.metrics == {"loss": 0.2, "auc": 0.7}
    assert got.tags == {"t": "2"}
    assert got.artifacts["plot.png"]["sha256"] == ref.sha256
    assert tracking.get_artifact(run.run_id, "plot.png") == b"\x89PNG fake"
    history = tracking.metric_history(run.run_id, "loss")
    assert [p.step for p in history] == [0, 1, 2, 3, 4]
    assert [p.value for p in history] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert all(p.timestamp_ms > 0 for p in history)
    assert [p.step for p in tracking.metric_history(run.run_id, "auc")] == [3, 10]


def test_context_manager_marks_failed_and_reraises(tracking: TrackingService) -> None:
    run = tracking.start_run("exp")

    def body() -> None:
        with run:
            run.log_metric("loss", 1.0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        body()
    got = tracking.get_run(run.run_id)
    assert got.status is RunStatus.FAILED
    assert got.metrics == {"loss": 1.0}  # buffered values are flushed on failure too


def test_keyboard_interrupt_marks_killed(tracking: TrackingService) -> None:
    with pytest.raises(KeyboardInterrupt), tracking.start_run("exp") as run:
        raise KeyboardInterrupt
    assert tracking.get_run(run.run_id).status is RunStatus.KILLED


def test_nan_and_inf_are_accepted_and_read_back(tracking: TrackingService) -> None:
    with tracking.start_run("exp") as run:
        run.log_metric("nan", math.nan)
        run.log_metric("inf", math.inf)
        run.log_metric("ninf", -math.inf)
    got = tracking.get_run(run.run_id).metrics
    assert math.isnan(got["nan"])
    assert got["inf"] == math.inf
    assert got["ninf"] == -math.inf
    assert math.isnan(tracking.metric_history(run.run_id, "nan")[0].value)


def test_bad_input_is_refused(tracking: TrackingService) -> None:
    with tracking.start_run("exp", params={"p": "1"}) as run:
        with pytest.raises(InvalidInputError, match="must be a number"):
            run.log_metric("m", "0.5")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError):
            run.log_metric("m", True)
        with pytest.raises(InvalidInputError, match="key"):
            run.log_metric("bad key#", 1.0)
        with pytest.raises(InvalidInputError, match="step"):
            run.log_metric("m", 1.0, step=-1)
        with pytest.raises(InvalidInputError, match="never change"):
            run.log_param("p", "2")
        run.log_param("p", "1")  # same value again is fine
        with pytest.raises(InvalidInputError):
            run.log_artifact("/does/not/exist")
        with pytest.raises(InvalidInputError):
            run.log_metrics({"ok": 1.0, "bad": "x"})  # type: ignore[dict-item]
    assert "ok" not in tracking.get_run(run.run_id).metrics  # validated before any is logged
    with pytest.raises(ConflictError, match="has ended"):
        run.log_metric("late", 1.0)
    with pytest.raises(ExperimentNotFoundError):
        tracking.start_run("missing")
    with pytest.raises(RunNotFoundError):
        tracking.get_run("0" * 32)
    with pytest.raises(RunNotFoundError):
        tracking.get_run("../etc/passwd")


def test_artifact_names_and_tampering(records: RecordStore, tmp_path: Path) -> None:
    tracking, blobs = make_tracking(records)
    tracking.create_experiment("exp")
    a = tmp_path / "a.txt"
    a.write_text("one")
    with tracking.start_run("exp") as run:
        ref = run.log_artifact(a)
        run.log_artifact(a)  # same content again: fine
        a.write_text("two")
        with pytest.raises(ConflictError, match="artifacts never change"):
            run.log_artifact(a)
        with pytest.raises(InvalidInputError):
            run.log_artifact(tmp_path)  # a folder
    with pytest.raises(ArtifactNotFoundError):
        tracking.get_artifact(run.run_id, "b.txt")
    blobs.put(ref.key, b"evil")
    with pytest.raises(ChecksumMismatchError):
        tracking.get_artifact(run.run_id, "a.txt")


def test_search_list_and_compare(tracking: TrackingService) -> None:
    tracking.create_experiment("other")
    ids = []
    for i, (model, auc) in enumerate([("lr", 0.6), ("lgbm", 0.7), ("lgbm", 0.8)]):
        run = tracking.record_run("exp", params={"model": model, "i": i}, metrics={"auc": auc})
        ids.append(run.run_id)
    tracking.record_run("other", params={"model": "lgbm"}, metrics={"auc": 0.99})
    found = tracking.search_runs(
        "metrics.auc > 0.65 and params.model = 'lgbm'", experiments=["exp"]
    )
    assert {r.run_id for r in found} == {ids[1], ids[2]}
    everywhere = tracking.search_runs("params.model = 'lgbm' order by metrics.auc desc")
    assert [r.metrics["auc"] for r in everywhere] == [0.99, 0.8, 0.7]
    assert len(tracking.search_runs("", order_by=["metrics.auc asc"], limit=2)) == 2
    assert tracking.search_runs("order by metrics.auc limit 1")[0].metrics["auc"] == 0.6
    assert len(tracking.list_runs("exp")) == 3
    assert len(tracking.list_runs()) == 4
    with pytest.raises(FilterSyntaxError):
        tracking.search_runs("metrics.auc >")
    with pytest.raises(ExperimentNotFoundError):
        tracking.search_runs("", experiments=["ghost"])
    cmp = tracking.compare_runs(ids)
    assert cmp.params["model"] == ["lr", "lgbm", "lgbm"]
    assert cmp.metrics["auc"] == [0.6, 0.7, 0.8]
    assert "model" in cmp.differing_params
    assert "i" in cmp.differing_params
    assert cmp.to_dict()["run_ids"] == ids
    with pytest.raises(InvalidInputError):
        tracking.compare_runs(ids[:1])
    with pytest.raises(InvalidInputError):
        tracking.compare_runs([ids[0], ids[0]])


def test_metrics_wait_in_the_buffer_until_flush(records: RecordStore) -> None:
    tracking, _ = make_tracking(records, flush_interval_s=0, max_buffered=10_000)
    tracking.create_experiment("exp")
    run = tracking.start_run("exp")
    run.log_metric("loss", 1.0)
    assert tracking.metric_history(run.run_id, "loss") == []  # buffered (no timer here)
    run.flush()
    assert [p.value for p in tracking.metric_history(run.run_id, "loss")] == [1.0]
    assert tracking.get_run(run.run_id).metrics == {"loss": 1.0}
    run.end()
    run.end()  # idempotent


def test_buffer_flushes_when_full(records: RecordStore) -> None:
    tracking, _ = make_tracking(records, flush_interval_s=0, max_buffered=3)
    tracking.create_experiment("exp")
    run = tracking.start_run("exp")
    for i in range(4):
        run.log_metric("m", float(i))
    assert len(tracking.metric_history(run.run_id, "m")) == 3
    run.end()
    assert len(tracking.metric_history(run.run_id, "m")) == 4


def test_timer_flushes_without_any_call(records: RecordStore) -> None:
    tracking, _ = make_tracking(records, flush_interval_s=0.01)
    tracking.create_experiment("exp")
    run = tracking.start_run("exp")
    run.log_metric("m", 1.0)
    done = threading.Event()
    for _ in range(2000):  # the timer thread writes it: poll, no fixed sleep
        if tracking.metric_history(run.run_id, "m"):
            done.set()
            break
        done.wait(0.005)
    assert done.is_set()
    run.end()


def test_resume_run_and_concurrent_summary_updates(tracking: TrackingService) -> None:
    run = tracking.start_run("exp")
    other = tracking.resume_run(run.run_id)
    run.set_tag("a", "1")
    other.set_tag("b", "2")  # a stale handle merges instead of overwriting
    run.log_metric("m", 1.0, step=0)
    other.log_metric("m", 2.0, step=1)
    run.flush()
    other.flush()
    run.end()
    got = tracking.get_run(run.run_id)
    assert got.tags == {"a": "1", "b": "2"}
    assert got.metrics == {"m": 2.0}
    assert got.status is RunStatus.FINISHED
    with pytest.raises(ConflictError):
        tracking.resume_run(run.run_id).log_metric("m", 3.0)


def test_authorization_is_checked_once_per_handle(records: RecordStore) -> None:
    tracking, _ = make_tracking(records)
    tracking.create_experiment("exp")
    audit = AuditLog(records)
    before = len(list(audit.entries()))
    with tracking.start_run("exp") as run:
        for i in range(50):
            run.log_metric("m", float(i))
    actions = [e.action for e in list(audit.entries())[before:]]
    assert actions == ["runs.create"]
