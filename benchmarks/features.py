"""Feature store benchmark: modelyard vs Feast 0.67 (SQLite online store), same run, same data.

    .venv/bin/python benchmarks/features.py [--data diabetic_data.csv] [--rows 100000]

Data: the first ``--rows`` rows of the UCI diabetes data, ``encounter_id`` as the entity key,
10 integer features (the 8 numeric columns + admission_type_id + discharge_disposition_id),
event times spread over 1999-2008 in row order: exactly what the Feast peer script builds.

modelyard runs on its embedded default (SQLite records, local-folder blobs, SQLite online
store) in a temporary workspace. Measured:
  materialize_seconds         100k rows offline -> online (one call, from scratch)
  online_1_entity             --calls reads of 1 random entity through an OnlineReader
  online_100_entities         --calls-100 reads of 100 random entities in one call
  online_1_entity_audited     ws.features.get_online(...) per call (authorize + audit each time)
  pit_join_seconds            point-in-time join: 1,000,000 entity rows against a 10-feature
                              group of 1,000,000 rows (100k entities x 10 event times), read
                              from its Parquet partition (checksum verified)
Feast (if /tmp/venv-feast exists) runs ../shared/peers/featurestore_feast.py in its own
venv on the same rows; its JSON is included under "feast". One JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
from bench_paths import PEERS, UCI_ZIP

import modelyard
from modelyard.features import FeatureGroupSpec

ZIP = UCI_ZIP
PEER = PEERS / "featurestore_feast.py"
FEAST_PY = Path("/tmp/venv-feast/bin/python")
FEATURES = [
    "time_in_hospital",
    "num_lab_procedures",
    "num_procedures",
    "num_medications",
    "number_outpatient",
    "number_emergency",
    "number_inpatient",
    "number_diagnoses",
    "admission_type_id",
    "discharge_disposition_id",
]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def data_path(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    target = Path(tempfile.gettempdir()) / "modelyard-bench" / "diabetic_data.csv"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(ZIP) as zf:
            name = next(n for n in zf.namelist() if n.endswith("diabetic_data.csv"))
            target.write_bytes(zf.read(name))
    return target


def frame(path: Path, rows: int) -> pl.DataFrame:
    raw = pl.read_csv(path, infer_schema_length=None).head(rows)
    start = datetime(1999, 1, 1, tzinfo=UTC)
    span = (datetime(2008, 12, 31, tzinfo=UTC) - start).total_seconds()
    secs = np.linspace(0, span, num=raw.height).astype("int64")
    return raw.select(
        pl.col("encounter_id").cast(pl.Int64),
        *(pl.col(c).cast(pl.Int64) for c in FEATURES),
    ).with_columns((pl.lit(start) + pl.duration(seconds=pl.Series(secs))).alias("event_timestamp"))


def latency(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "calls": len(ms),
        "p50_ms": round(ms[len(ms) // 2], 4),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 4),
        "mean_ms": round(statistics.fmean(ms), 4),
        "max_ms": round(ms[-1], 4),
    }


def spec(name: str) -> FeatureGroupSpec:
    return FeatureGroupSpec(
        name=name,
        entity_key="encounter_id",
        event_time="event_timestamp",
        features=[{"name": c, "dtype": "int64"} for c in FEATURES],
        description="UCI diabetes encounter statistics (benchmark)",
    )


def run_modelyard(df: pl.DataFrame, args: argparse.Namespace) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="modelyard-bench-features-"))
    ws = modelyard.open_workspace(home=home, env={}, create=True)
    fs = ws.features
    fs.apply([spec("encounters")])
    t0 = time.perf_counter()
    fs.ingest("encounters", df)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mat = fs.materialize("encounters")
    materialize_s = time.perf_counter() - t0

    rng = random.Random(args.seed)
    ids = df["encounter_id"].to_list()
    reader = fs.online("encounters")
    for _ in range(50):  # warm-up, not counted
        reader.get(rng.choice(ids))
    single = []
    for _ in range(args.calls):
        key = rng.choice(ids)
        t0 = time.perf_counter()
        reader.get(key)
        single.append(time.perf_counter() - t0)
    batch = []
    for _ in range(args.calls_100):
        keys = rng.sample(ids, 100)
        t0 = time.perf_counter()
        got = reader.get_many(keys)
        batch.append(time.perf_counter() - t0)
    # correctness of the last batch, checked after timing (a 100k-dict lookup table built
    # before would make the garbage collector's full passes part of the measured tail)
    expected = df.filter(pl.col("encounter_id").is_in(keys)).rows_by_key("encounter_id", named=True)
    ok = all(
        g is not None and g == {c: expected[k][0][c] for c in FEATURES}
        for k, g in zip(keys, got, strict=True)
    )
    audited = []
    for _ in range(args.calls_audited):
        key = rng.choice(ids)
        t0 = time.perf_counter()
        fs.get_online("encounters", [key])
        audited.append(time.perf_counter() - t0)

    # Point-in-time join, 1M x 1M.
    n_ent = args.pit_rows // 10
    base = datetime(1999, 1, 1, tzinfo=UTC)
    np_rng = np.random.default_rng(args.seed)
    big = pl.DataFrame(
        {
            "encounter_id": np.repeat(np.arange(n_ent, dtype=np.int64), 10),
            "event_timestamp": np_rng.integers(0, 10 * 365 * 86_400, args.pit_rows),
            **{c: np_rng.integers(0, 100, args.pit_rows) for c in FEATURES},
        }
    ).with_columns(
        (pl.lit(base) + pl.duration(seconds=pl.col("event_timestamp"))).alias("event_timestamp")
    )
    fs.apply([spec("encounters_1m")])
    t0 = time.perf_counter()
    fs.ingest("encounters_1m", big)
    ingest_1m_s = time.perf_counter() - t0
    entities = pl.DataFrame(
        {
            "encounter_id": np_rng.integers(0, n_ent, args.pit_rows),
            "event_time": np_rng.integers(0, 11 * 365 * 86_400, args.pit_rows),
        }
    ).with_columns((pl.lit(base) + pl.duration(seconds=pl.col("event_time"))).alias("event_time"))
    pit = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        out = fs.get_historical_features(entities, ["encounters_1m"])
        pit.append(time.perf_counter() - t0)
    result = {
        "rows": df.height,
        "features": len(FEATURES),
        "ingest_seconds": round(ingest_s, 4),
        "materialize_seconds": round(materialize_s, 4),
        "materialize": mat.to_dict(),
        "online_1_entity": latency(single),
        "online_100_entities": latency(batch),
        "online_1_entity_audited": latency(audited),
        "values_check_ok": ok,
        "pit_rows": args.pit_rows,
        "pit_ingest_seconds": round(ingest_1m_s, 4),
        "pit_join_seconds": round(statistics.median(pit), 4),
        "pit_join_runs": [round(p, 4) for p in pit],
        "pit_rows_with_values": int(out[FEATURES[0]].is_not_null().sum()),
        "online_store_mb": round(os.path.getsize(home / "online.db") / 2**20, 2),
    }
    ws.close()
    return result


def run_feast(path: Path, args: argparse.Namespace) -> dict[str, object] | None:
    if not FEAST_PY.exists() or args.no_feast:
        return None
    log("feast: running the peer script in /tmp/venv-feast")
    proc = subprocess.run(
        [
            str(FEAST_PY),
            str(PEER),
            "--data",
            str(path),
            "--rows",
            str(args.rows),
            "--repo",
            tempfile.mkdtemp(prefix="feast-bench-"),
            "--calls",
            str(args.calls),
            "--calls-100",
            str(args.calls_100),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}", "stderr_tail": proc.stderr[-2000:]}
    parsed: dict[str, object] = json.loads(lines[-1])
    return parsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="diabetic_data.csv (default: unzipped from the shipped UCI zip)")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--pit-rows", type=int, default=1_000_000)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--calls-100", type=int, default=300)
    p.add_argument("--calls-audited", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-feast", action="store_true")
    args = p.parse_args()
    path = data_path(args.data)
    df = frame(path, args.rows)
    log(f"modelyard: {df.height} rows x {len(FEATURES)} features")
    ours = run_modelyard(df, args)
    feast = run_feast(path, args)
    print(
        json.dumps(
            {
                "bench": "features",
                "machine": {"cpus": os.cpu_count(), "note": "shared 2-core machine"},
                "versions": {
                    "modelyard": modelyard.__version__,
                    "polars": pl.__version__,
                    "python": sys.version.split()[0],
                },
                "modelyard": ours,
                "feast": feast,
                "targets": {
                    "online_1_entity_p99_ms": 0.1,
                    "online_100_entities_p99_ms": 2.0,
                    "materialize_seconds": 2.0,
                    "pit_join_seconds": 5.0,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
