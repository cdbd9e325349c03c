"""Experiment tracking and model registry: modelyard vs MLflow 3, both on SQLite.

Prints one JSON document with both sides, measured on the same machine in the same run:

* ``log_metric_1000``: create a run, log 1,000 values of one metric one call at a time
  (steps 0..999), end the run. Ours: the workspace default (SQLite records, local-folder
  blobs), with its documented durability (buffered values are written by ``flush()``, the end
  of the run, and a timer at most 1 s later). MLflow: ``MlflowClient.log_metric`` per value.
* ``register_version``: register a new version with one small artifact (ours: hashing and
  storing the file, fsync included; MLflow: ``register_model`` of an already logged model).
* ``search_10k``: search 10,000 runs with ``metrics.auc > 0.5 and params.model = 'lr'``
  (setup not timed). MLflow: ``mlflow.search_runs`` over the same number of runs.

The MLflow side runs ``../shared/peers/tracking_mlflow.py`` in ``/tmp/venv-mlflow`` (made by
``setup_venvs.sh``) if that virtualenv exists; otherwise it is reported as skipped.

    .venv/bin/python benchmarks/tracking.py [--repeats 5] [--runs 10000] [--mlflow-runs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench_paths import PEERS, UCI_ZIP

from modelyard.workspace import open_workspace

MLFLOW_PY = Path("/tmp/venv-mlflow/bin/python")
DATA_ZIP = UCI_ZIP
FILTER = "metrics.auc > 0.5 and params.model = 'lr'"


def _summary(times: list[float], cpu: list[float] | None = None) -> dict[str, Any]:
    extra = {} if not cpu else {"cpu_seconds_median": round(statistics.median(cpu), 6)}
    return {
        **extra,
        "seconds_median": round(statistics.median(times), 6),
        "seconds_min": round(min(times), 6),
        "seconds_max": round(max(times), 6),
        "repeats": len(times),
    }


def ours(repeats: int, n_runs: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    ws = open_workspace(env={"MODELYARD_HOME": str(home / "ws"), "MODELYARD_USER": "bench"})
    ws.init()
    tracking, registry = ws.tracking, ws.registry
    tracking.create_experiment("bench-logging")
    out: dict[str, Any] = {
        "tool": "modelyard",
        "records_uri": ws.settings.records_uri.split("://")[0] + "://…",
        "blobs_uri": ws.settings.blobs_uri.split("://")[0] + "://…",
    }

    # 1,000 metric values, one call each (create + log + end, like MLflow's figure)
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        with tracking.start_run("bench-logging") as run:
            for step in range(1000):
                run.log_metric("loss", 1.0 / (step + 1), step=step)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert len(tracking.metric_history(run.run_id, "loss")) == 1000
    out["log_metric_1000"] = _summary(times, cpu)
    out["log_metric_per_call_us"] = round(statistics.median(times) / 1000 * 1e6, 2)

    # the durable variant: flush after every value (one commit per value)
    t0 = time.perf_counter()
    with tracking.start_run("bench-logging") as run:
        for step in range(1000):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            run.flush()
    out["log_metric_1000_flush_each"] = _summary([time.perf_counter() - t0])

    # register a version with a small artifact
    artifact = home / "model.txt"
    times, cpu = [], []
    for i in range(max(repeats, 30)):
        artifact.write_text(f"tree {i}\n" + "leaf=0.1\n" * 50)
        t0, c0 = time.perf_counter(), time.process_time()
        registry.register(
            "bench-model",
            [artifact],
            framework="lightgbm",
            params={"num_leaves": 31},
            metrics={"auc": 0.7},
        )
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out["register_version"] = _summary(times, cpu)

    # search over n_runs runs (setup through the service, not timed)
    tracking.create_experiment("bench-search")
    t0 = time.perf_counter()
    for i in range(n_runs):
        with tracking.start_run(
            "bench-search",
            params={"model": "lr" if i % 2 == 0 else "rf", "i": i},
            tags={"bench": "search"},
        ) as run:
            run.log_metric("auc", (i * 7919 % 1000) / 1000)
    out["setup_create_runs"] = n_runs
    out["setup_create_runs_seconds"] = round(time.perf_counter() - t0, 3)
    times, cpu = [], []
    matched = 0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        matched = len(tracking.search_runs(FILTER, experiments=["bench-search"]))
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out["search_runs_filtered"] = _summary(times, cpu)
    out["search_runs_matched"] = matched
    ws.close()
    return out


def mlflow(repeats: int, n_runs: int) -> dict[str, Any]:
    if not MLFLOW_PY.exists():
        return {"skipped": f"{MLFLOW_PY} not found (run ../shared/peers/setup_venvs.sh)"}
    work = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
    with zipfile.ZipFile(DATA_ZIP) as zf:
        member = next(n for n in zf.namelist() if n.endswith("diabetic_data.csv"))
        (work / "diabetic_data.csv").write_bytes(zf.read(member))
    cmd = [
        str(MLFLOW_PY),
        str(PEERS / "tracking_mlflow.py"),
        "--backend",
        "sqlite",
        "--data",
        str(work / "diabetic_data.csv"),
        "--rows",
        "2000",
        "--repeats",
        str(repeats),
        "--runs",
        str(n_runs),
        "--store",
        str(work / "store"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=work, check=False)
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}", "stderr_tail": done.stderr[-2000:]}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10_000, help="runs to search over (ours)")
    parser.add_argument("--mlflow-runs", type=int, default=10_000, help="runs (MLflow side)")
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()
    record: dict[str, Any] = {
        "bench": "tracking",
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "targets": {
            "log_metric_1000_seconds": 0.050,
            "register_version_median_seconds": 0.010,
            "search_10k_seconds": 0.100,
        },
        "modelyard": ours(args.repeats, args.runs),
    }
    record["mlflow"] = (
        {"skipped": "--skip-mlflow"} if args.skip_mlflow else mlflow(args.repeats, args.mlflow_runs)
    )
    record["load_average_at_end"] = os.getloadavg()
    json.dump(record, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
