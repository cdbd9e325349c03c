"""Drift check benchmark: modelyard vs Evidently DataDriftPreset vs whylogs, one JSON document.

Data: the UCI diabetes file, 48 columns (the two ids dropped; 8 numeric, 40 categorical of
which 3 integer-coded), split in row order 50/50 and each half resampled with replacement to
N rows (the same recipe as the peer scripts in ``shared/peers``: reference = first half,
current = second half).

Timed for modelyard (after a 1,000-row warm-up that pays the one-off import costs, reported
as ``cold_start_seconds``): the whole check, ``build_baseline(reference)`` + ``run_check`` (drift of
every feature + dataset verdict + quality metrics + chart data). Each size runs in its own
subprocess so that its peak RSS (``ru_maxrss``) is its own; data preparation is not timed
but is inside the peak. Also timed at 1M: ``summarize`` of the reference with all 50 columns.

Peers (only if their virtualenvs exist): ``/tmp/venv-evidently`` and ``/tmp/venv-whylogs``
running ``drift_evidently.py`` / ``drift_whylogs.py`` from the peers folder at --peer-rows.

Usage::

    .venv/bin/python benchmarks/drift.py --data path/to/diabetic_data.csv
        [--sizes 100000,1000000,5000000] [--repeats 3] [--no-peers] [--peers-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench_paths import PEERS

# the copy of the UCI zip that ships inside the package
DEFAULT_ZIP = (
    Path(__file__).resolve().parents[1]
    / "src/modelyard/datasets/catalog/files/diabetes_130_us_hospitals.zip"
)
IDS = ["encounter_id", "patient_nbr"]
CODED = ["admission_type_id", "discharge_disposition_id", "admission_source_id"]


def _csv_path(data: str | None) -> Path:
    if data:
        return Path(data)
    target = Path(tempfile.gettempdir()) / "modelyard-bench" / "diabetic_data.csv"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(DEFAULT_ZIP) as zf:
            member = next(n for n in zf.namelist() if n.endswith("diabetic_data.csv"))
            target.write_bytes(zf.read(member))
    return target


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(csv: Path, rows: int, repeats: int, seed: int) -> dict[str, object]:
    import numpy as np
    import polars as pl

    from modelyard.quality.columns import summarize
    from modelyard.quality.monitoring import build_baseline, run_check

    df = pl.read_csv(
        csv,
        null_values=["?"],
        infer_schema_length=None,
        schema_overrides={c: pl.String for c in CODED},
    )
    # strings as Categorical (4 bytes a value): how a million-row batch is best held in memory
    df = df.with_columns(pl.col(pl.String).cast(pl.Categorical))
    half = df.height // 2
    rng_ref, rng_cur = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    ref_full = df[:half][rng_ref.integers(0, half, rows)]
    cur = df[half:][rng_cur.integers(0, df.height - half, rows)].drop(IDS)
    ref = ref_full.drop(IDS)
    del df
    rss_loaded = _rss_mb()
    kinds = {c: "categorical" for c in CODED}
    # one-off process costs (lazy scipy import, Polars thread pool) measured apart, not timed
    t0 = time.perf_counter()
    run_check(build_baseline(ref.head(1000), kinds=kinds), cur.head(1000))  # type: ignore[arg-type]
    cold_start = time.perf_counter() - t0
    times = []
    report = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        baseline = build_baseline(ref, kinds=kinds)  # type: ignore[arg-type]
        report = run_check(baseline, cur)
        times.append(time.perf_counter() - t0)
    out: dict[str, object] = {
        "rows_ref": ref.height,
        "rows_cur": cur.height,
        "columns": ref.width,
        "seconds_median": round(sorted(times)[len(times) // 2], 4),
        "seconds_all": [round(t, 4) for t in times],
        "rss_after_data_load_mb": round(rss_loaded, 1),
        "cold_start_seconds": round(cold_start, 4),
    }
    if report is not None:
        out["drifted_columns"] = len(report.drifted_features)
        out["dataset_drift"] = report.dataset_drift
        out["methods"] = sorted({f.method or "-" for f in report.features})
    if rows == 1_000_000:
        t0 = time.perf_counter()
        summarize(ref_full)
        out["summary_50_columns_seconds"] = round(time.perf_counter() - t0, 4)
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    return out


def _run_json(cmd: list[str], timeout: float) -> dict[str, object]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-500:]}"}
    result: dict[str, object] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="diabetic_data.csv (default: unzip the shipped copy)")
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--peer-rows", type=int, default=1_000_000)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--peers-dir", default=str(PEERS))
    parser.add_argument("--worker-rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    csv = _csv_path(args.data)
    if args.worker_rows:
        print(json.dumps(worker(csv, args.worker_rows, args.repeats, args.seed)))
        return
    ours = {}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        repeats = 1 if size > 1_000_000 else args.repeats
        cmd = [
            sys.executable, __file__, "--data", str(csv), "--worker-rows", str(size),
            "--repeats", str(repeats), "--seed", str(args.seed),
        ]  # fmt: skip
        print(f"modelyard at {size} rows …", file=sys.stderr, flush=True)
        ours[str(size)] = _run_json(cmd, timeout=1800)
    peers: dict[str, object] = {}
    if not args.no_peers:
        for name, venv in (("evidently", "/tmp/venv-evidently"), ("whylogs", "/tmp/venv-whylogs")):
            python = Path(venv) / "bin" / "python"
            script = Path(args.peers_dir) / f"drift_{name}.py"
            if not python.exists() or not script.exists():
                peers[name] = {"skipped": f"{python} or {script} not found"}
                continue
            print(f"{name} at {args.peer_rows} rows …", file=sys.stderr, flush=True)
            peers[name] = _run_json(
                [
                    str(python),
                    str(script),
                    "--data",
                    str(csv),
                    "--rows",
                    str(args.peer_rows),
                    "--repeats",
                    "1",
                    "--seed",
                    str(args.seed),
                    "--timeout",
                    "1500",
                ],
                timeout=1800,
            )
    one_m = ours.get("1000000", {})
    ratios = {}
    for name, rec in peers.items():
        if (
            isinstance(rec, dict)
            and isinstance(rec.get("seconds_median"), int | float)
            and isinstance(one_m.get("seconds_median"), int | float)
            and args.peer_rows == 1_000_000
        ):
            ratios[f"{name}_over_modelyard"] = round(
                float(rec["seconds_median"]) / float(one_m["seconds_median"]), 1
            )
    print(
        json.dumps(
            {
                "bench": "drift",
                "what": "baseline + drift + quality, reference N rows vs current N rows, 48 cols",
                "machine": {
                    "cpu_count": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": os.getloadavg(),
                },
                "modelyard": ours,
                "peers": peers,
                "ratios_at_1m": ratios,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
