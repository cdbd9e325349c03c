"""Dataset statistics and profile speed/memory on 1,000,000 x 50 resampled UCI rows, with peers.

Measures, each in a fresh worker process (so peak RSS is the operation's own):

- ``summary``: ``modelyard.quality.columns.summarize`` via the dataset service's profile
  module (what ``datasets profile`` and ``ws.datasets.summary`` run), target <= 3 s and peak
  extra memory <= 2x the loaded frame (``DataFrame.estimated_size``);
- ``html_profile``: summary + correlations + missing overview + HTML rendering, target <= 2x
  the summary time;
- the HTML report size for the real UCI data (101,766 rows), target < 2 MB;
- peers in the same run: ydata-profiling ``minimal=True`` (its own venv, see
  ``../shared/peers/profile_ydata.py``) and pandas ``describe`` + ``value_counts``
  (``profile_pandas.py``), at the same row count.

Usage::

    .venv/bin/python benchmarks/profile.py                 # everything, one JSON document
    .venv/bin/python benchmarks/profile.py --no-peers      # only modelyard
    YDATA_PYTHON=/tmp/venv-ydata/bin/python PEERS=../shared/peers ...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench_paths import PEERS

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "src/modelyard/datasets/catalog/files/diabetes_130_us_hospitals.zip"
CODES = ["admission_type_id", "discharge_disposition_id", "admission_source_id"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load(csv: Path, rows: int, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import polars as pl

    frame = pl.read_csv(
        csv,
        null_values=["?"],
        infer_schema_length=10_000,
        schema_overrides={c: pl.String for c in CODES},
    )
    if rows and rows != frame.height:
        idx = np.random.default_rng(seed).integers(0, frame.height, size=rows)
        frame = frame[idx]
    return frame.rechunk()


def worker(args: argparse.Namespace) -> None:
    """Run one operation ``repeats`` times in this (fresh) process and print JSON."""
    from modelyard.datasets import profile as profiling

    frame = _load(Path(args.csv), args.rows, args.seed)
    loaded_bytes = frame.estimated_size()
    baseline = _peak_mb()
    times = []
    html_bytes = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        summary = profiling.frame_summary(frame)
        if args.worker == "html_profile":
            body = profiling.build_profile(frame, summary, {})
            meta = {
                "name": "uci",
                "version": 1,
                "content_hash": "-",
                "format": "csv",
                "created_at": "-",
                "created_by": "bench",
            }
            html_bytes = len(profiling.render_html(body, meta).encode())
        times.append(time.perf_counter() - t0)
    peak = _peak_mb()
    print(
        json.dumps(
            {
                "operation": args.worker,
                "rows": frame.height,
                "columns": frame.width,
                "loaded_mb": round(loaded_bytes / 2**20, 1),
                "seconds_median": round(statistics.median(times), 3),
                "seconds_all": [round(t, 3) for t in times],
                "rss_after_load_mb": round(baseline, 1),
                "peak_rss_mb": round(peak, 1),
                "extra_peak_mb": round(peak - baseline, 1),
                "extra_over_loaded": round((peak - baseline) / (loaded_bytes / 2**20), 2),
                "html_bytes": html_bytes,
            }
        )
    )


def _run(cmd: list[str], timeout: float) -> dict[str, object]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s", "cmd": " ".join(cmd)}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or "failed", "cmd": " ".join(cmd)}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    result: dict[str, object] = json.loads(lines[-1])
    result["wall_seconds_incl_load"] = round(time.perf_counter() - t0, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--peer-timeout", type=float, default=900.0)
    parser.add_argument("--worker", choices=["summary", "html_profile"])
    parser.add_argument("--csv")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    with tempfile.TemporaryDirectory(prefix="modelyard-bench-") as tmp:
        with zipfile.ZipFile(ZIP) as archive:
            member = next(n for n in archive.namelist() if n.endswith("diabetic_data.csv"))
            csv = Path(tmp) / "diabetic_data.csv"
            csv.write_bytes(archive.read(member))
        me = [sys.executable, __file__, "--csv", str(csv), "--seed", str(args.seed)]
        common = ["--rows", str(args.rows), "--repeats", str(args.repeats)]
        summary = _run([*me, "--worker", "summary", *common], 1800)
        html = _run([*me, "--worker", "html_profile", *common], 1800)
        uci_html = _run([*me, "--worker", "html_profile", "--rows", "0", "--repeats", "1"], 600)
        peers: dict[str, object] = {}
        if not args.no_peers:
            peers_dir = PEERS
            ydata_python = os.environ.get("YDATA_PYTHON", "/tmp/venv-ydata/bin/python")
            peer_args = [
                "--data",
                str(csv),
                "--rows",
                str(args.rows),
                "--repeats",
                "1",
                "--timeout",
                str(args.peer_timeout),
            ]
            peers["pandas"] = _run(
                [sys.executable, str(peers_dir / "profile_pandas.py"), *peer_args],
                args.peer_timeout * 2,
            )
            if Path(ydata_python).exists():
                peers["ydata_minimal"] = _run(
                    [ydata_python, str(peers_dir / "profile_ydata.py"), *peer_args],
                    args.peer_timeout * 2,
                )
            else:
                peers["ydata_minimal"] = {"error": f"{ydata_python} not found (see docstring)"}
    s_sec = summary.get("seconds_median")
    h_sec = html.get("seconds_median")
    report = {
        "bench": "dataset_profile",
        "rows": args.rows,
        "columns": 50,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "summary": summary,
        "html_profile": html,
        "uci_101766_rows_html_bytes": uci_html.get("html_bytes"),
        "peers": peers,
        "targets": {
            "summary_seconds_max": 3.0,
            "summary_extra_memory_over_loaded_max": 2.0,
            "html_profile_seconds_max": "2 x summary",
            "uci_html_bytes_max": 2_000_000,
        },
        "met": {
            "summary_seconds": isinstance(s_sec, float) and s_sec <= 3.0,
            "summary_memory": float(str(summary.get("extra_over_loaded", 99))) <= 2.0,
            "html_profile_seconds": isinstance(s_sec, float)
            and isinstance(h_sec, float)
            and h_sec <= 2 * s_sec,
            "uci_html_bytes": int(str(uci_html.get("html_bytes") or 10**9)) < 2_000_000,
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
