"""Evaluation of the adherence model on the full UCI data; prints one JSON document.

Protocol (see modelyard.adherence.evaluation): death/hospice discharges dropped; 5 seeds of an
80/20 split by patient_nbr; early stopping, calibration and threshold on a patient-grouped
slice of the training part only; the test part scored once, at the encounter level;
LightGBM and the logistic baseline side by side; a patient-cluster bootstrap for seed 0.

    .venv/bin/python benchmarks/adherence_eval.py [--data ZIP] [--seeds 0 1 2 3 4]
        [--config adherence.yaml] [--bootstrap 200] [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from bench_paths import UCI_ZIP

from modelyard.adherence import AdherenceConfig, evaluate, load_uci

ZIP_NAME = "diabetes+130-us+hospitals+for+years+1999-2008.zip"
CANDIDATES = (Path("data") / ZIP_NAME, UCI_ZIP)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--models", nargs="+", default=["lightgbm", "logistic"])
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data = args.data or next((p for p in CANDIDATES if p.is_file()), None)
    if data is None:
        print(f"error: UCI zip not found; pass --data PATH/{ZIP_NAME}", file=sys.stderr)
        return 2
    config = AdherenceConfig.from_yaml(args.config) if args.config else AdherenceConfig()
    started = time.perf_counter()
    frame = load_uci(data)
    report = evaluate(
        frame, config, seeds=args.seeds, model_types=args.models, n_bootstrap=args.bootstrap
    )
    report["environment"] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "note": "2 shared cores; other jobs ran at the same time",
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
