"""Adherence batch-inference and training throughput; prints one JSON document.

End to end per batch: read the encounters file (CSV or Parquet), check and type it, build
features (history + brand expansion), predict, write Parquet. Two paths:

- ``full``: brand level, calibrated probability, label, confidence, top-5 risk factors
  (LightGBM TreeSHAP), flags;
- ``probabilities``: encounter level, calibrated probability only (``predict_proba``).

Also times training on all ~100k encounters. The machine has 2 cores shared with other jobs:
the load average is recorded with every figure.

    .venv/bin/python benchmarks/inference.py [--data ZIP] [--repeats 3] [--threads 2]
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

import polars as pl
from bench_paths import UCI_ZIP

from modelyard.adherence import AdherenceConfig, load_uci, predict, predict_proba, train

ZIP_NAME = "diabetes+130-us+hospitals+for+years+1999-2008.zip"
CANDIDATES = (Path("data") / ZIP_NAME, UCI_ZIP)


def _timed(fn: Any, repeats: int) -> dict[str, float]:
    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {
        "best_s": min(times),
        "median_s": statistics.median(times),
        "cpu_s_of_best": cpu[times.index(min(times))],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()
    data = args.data or next((p for p in CANDIDATES if p.is_file()), None)
    if data is None:
        print(f"error: UCI zip not found; pass --data PATH/{ZIP_NAME}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    frame = load_uci(data)
    n_enc = frame.height
    config = AdherenceConfig.from_dict({"model": {"lightgbm": {"num_threads": args.threads}}})

    train_times = []
    model = None
    for _ in range(max(1, args.repeats - 1)):
        started = time.perf_counter()
        model = train(frame, config)
        train_times.append(time.perf_counter() - started)
    assert model is not None

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"batch.{args.format}"
        if args.format == "csv":
            frame.write_csv(src)
        else:
            frame.write_parquet(src)
        out = Path(tmp) / "out.parquet"

        def read() -> pl.DataFrame:
            if args.format == "csv":
                return pl.read_csv(src, infer_schema=False)
            return pl.read_parquet(src)

        rows: dict[str, int] = {}

        def full() -> None:
            result = predict(model, read(), model_version="1", num_threads=args.threads)
            result.write_parquet(out)
            rows["full"] = result.height

        def full_path_method() -> None:
            result = predict(
                model,
                read(),
                model_version="1",
                num_threads=args.threads,
                risk_factor_method="path",
            )
            result.write_parquet(out)

        def probabilities() -> None:
            result = predict_proba(model, read(), level="encounter", num_threads=args.threads)
            result.write_parquet(out)
            rows["probabilities"] = result.height

        t_full = _timed(full, args.repeats)
        t_path = _timed(full_path_method, args.repeats)
        t_prob = _timed(probabilities, args.repeats)

    report = {
        "encounters": n_enc,
        "brand_rows": rows["full"],
        "input_format": args.format,
        "threads": args.threads,
        "model": {
            "n_trees": model.metrics.get("n_trees"),
            "num_leaves": config.model.lightgbm.num_leaves,
            "max_depth": config.model.lightgbm.max_depth,
        },
        "full_path": {
            **t_full,
            "risk_factor_method": "treeshap (LightGBM pred_contrib)",
            "encounters_per_s": n_enc / t_full["best_s"],
            "target_encounters_per_s": 20_000,
        },
        "full_path_fast_risk_factors": {
            **t_path,
            "risk_factor_method": "path (decision-path attribution, not TreeSHAP)",
            "encounters_per_s": n_enc / t_path["best_s"],
            "target_encounters_per_s": 20_000,
        },
        "probabilities_path": {
            **t_prob,
            "encounters_per_s": n_enc / t_prob["best_s"],
            "target_encounters_per_s": 100_000,
        },
        "training": {
            "best_s": min(train_times),
            "runs_s": [round(t, 2) for t in train_times],
            "target_s": 30,
            "encounters": n_enc,
        },
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_before": [round(v, 2) for v in load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
            "note": "2 cores shared with other jobs; load average > 2 means contention",
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
