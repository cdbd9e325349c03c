"""The adherence patient history on the feature store, on the full UCI data; prints one JSON
document.

Measured on all 101,766 encounters in a fresh workspace (SQLite records, local Parquet,
SQLite online store):

- ``batch_history`` / ``history_events``: the definition, computed from the data;
- ``publish``: apply the group, build the snapshots, ingest, materialize online;
- ``publish_increment``: the last 20% of encounters published after the first 80% (merged
  with the stored encounters of the same patients, their timelines recomputed);
- ``point_in_time``: every encounter's history as of its admission (what training reads);
- ``for_prediction``: the last 20% of encounters scored against the first 80% published
  (online snapshot + the batch's own history), and one encounter at a time (real time);
- ``predict_realtime``: one encounter scored end to end (history online, model cached).

Every figure checks its result against ``batch_history`` first (a wrong answer fails the run).

    .venv/bin/python benchmarks/adherence_history.py [--repeats 5] [--singles 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from bench_paths import UCI_ZIP
from polars.testing import assert_frame_equal

import modelyard
from modelyard.adherence import load_uci
from modelyard.adherence.history import GROUP_FEATURES, batch_history, history_events
from modelyard.adherence.store import PatientHistoryStore
from modelyard.pipelines.config import TrainingConfig


def _timed(fn: Any, repeats: int) -> tuple[dict[str, float], Any]:
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return {"best_s": round(min(times), 4), "median_s": round(statistics.median(times), 4)}, out


def _latency(fn: Any, n: int) -> dict[str, float]:
    fn()  # warm
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1e3
    return {
        "n": n,
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def _fresh(folder: str) -> tuple[Any, PatientHistoryStore]:
    env = {"MODELYARD_HOME": str(Path(folder) / "ws"), "MODELYARD_USER": "bench"}
    ws = modelyard.open_workspace(env=env, create=True)
    return ws, PatientHistoryStore(ws.features)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=UCI_ZIP)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--singles", type=int, default=300)
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"error: no UCI zip at {args.data}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    frame = load_uci(args.data)
    expect = batch_history(frame)
    cut = frame.get_column("encounter_id").quantile(0.8)
    past = frame.filter(pl.col("encounter_id") <= cut)
    later = frame.filter(pl.col("encounter_id") > cut)
    result: dict[str, Any] = {
        "data": {
            "encounters": frame.height,
            "patients": frame.get_column("patient_nbr").n_unique(),
            "past_encounters": past.height,
            "later_encounters": later.height,
        }
    }
    result["batch_history"], _ = _timed(lambda: batch_history(frame), args.repeats)
    result["history_events"], events = _timed(lambda: history_events(frame), args.repeats)
    result["history_events"]["snapshots"] = events.height

    with tempfile.TemporaryDirectory() as tmp:
        ws, store = _fresh(tmp)
        started = time.perf_counter()
        published = store.publish(frame, source="full")
        result["publish"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "snapshots": published.snapshots,
            "patients_online": published.materialization.entities_written
            if published.materialization
            else None,
        }
        pin = published.pin
        result["point_in_time"], pit = _timed(lambda: store.point_in_time(frame, pin), args.repeats)
        assert_frame_equal(pit, expect)
        ws.close()

    with tempfile.TemporaryDirectory() as tmp:
        ws, store = _fresh(tmp)
        started = time.perf_counter()
        first = store.publish(past, source="past")
        result["publish_past"] = {"seconds": round(time.perf_counter() - started, 3)}
        pin = first.pin
        whole = expect.with_columns(frame.get_column("encounter_id"))
        want = later.select("encounter_id").join(whole, on="encounter_id", how="left")
        result["for_prediction_batch"], got = _timed(
            lambda: store.for_prediction(later, pin), args.repeats
        )
        assert_frame_equal(got, want.select(GROUP_FEATURES))
        # one new encounter at a time: each patient's first encounter after the cut
        singles = later.filter(
            pl.col("encounter_id") == pl.col("encounter_id").min().over("patient_nbr")
        ).head(args.singles)
        rows = [singles.slice(i, 1) for i in range(singles.height)]
        it = iter(rows * 2)
        result["for_prediction_one"] = _latency(
            lambda: store.for_prediction(next(it), pin), len(rows)
        )

        # end to end: a model trained on the past (pipelines, feature store), one encounter
        path = Path(tmp) / "past.parquet"
        past.write_parquet(path)
        trained = ws.pipelines.run_training(
            TrainingConfig.model_validate({"data": {"path": str(path), "name": "past"}})
        )
        ref = f"adherence@{trained.version}"
        it2 = iter(rows * 2)
        result["predict_realtime_one"] = {
            "probability_only": _latency(
                lambda: ws.pipelines.predict_realtime(
                    ref, next(it2), level="encounter", risk_factors=False
                ),
                len(rows),
            ),
        }
        it3 = iter(rows * 2)
        result["predict_realtime_one"]["with_risk_factors"] = _latency(
            lambda: ws.pipelines.predict_realtime(ref, next(it3), level="brand"), len(rows)
        )

        started = time.perf_counter()
        added = store.publish(later, source="later")  # the new encounters only
        result["publish_increment"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "encounters": later.height,
            "snapshots": added.snapshots,
        }
        assert_frame_equal(store.point_in_time(frame, added.pin), expect)
        ws.close()

    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
