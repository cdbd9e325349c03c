"""SQLite RecordStore vs raw sqlite3 doing the same statements on the same kind of file.

Prints one JSON document. Each side gets its own fresh database file in the same folder with
the same pragmas (WAL, synchronous=NORMAL); rounds alternate between the sides so machine noise
hits both alike. The raw side is what one writes by hand to keep these dicts in sqlite3: the
same INSERT/SELECT statements with the attributes as ``json.dumps`` text (and ``json.loads`` on
read). Ours adds key validation, canonical JSON, per-thread/per-process connections and error
translation: the ratio is the price of the port.

    .venv/bin/python benchmarks/records.py [--n 5000] [--batch 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from modelyard.storage.sqlite import SqliteRecordStore


def _item(i: int) -> dict[str, object]:
    return {
        "pk": "model#adherence",
        "sk": f"v#{i:010d}",
        "framework": "lightgbm",
        "metrics": {"auc_roc": 0.7012, "brier": 0.093},
        "creator": "alice",
        "status": "pending",
    }


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS records (pk TEXT NOT NULL, sk TEXT NOT NULL, "
        "body TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID"
    )
    return conn


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n: int, batch: int, rounds: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="bench-records-"))
    items = [_item(i) for i in range(n)]
    rows = [(str(it["pk"]), str(it["sk"])) for it in items]
    put_ours: list[float] = []
    put_raw: list[float] = []
    get_ours: list[float] = []
    get_raw: list[float] = []
    batch_ours: list[float] = []
    batch_raw: list[float] = []
    for r in range(rounds):
        store = SqliteRecordStore(folder / f"ours-{r}.db")
        store.find("warm", "up")
        raw = _raw(folder / f"raw-{r}.db")

        t0 = time.perf_counter()
        for it in items:
            store.put(it)
        put_ours.append((time.perf_counter() - t0) / n)

        t0 = time.perf_counter()
        for it in items:
            attrs = {k: v for k, v in it.items() if k not in ("pk", "sk")}
            raw.execute(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                (it["pk"], it["sk"], json.dumps(attrs)),
            )
        put_raw.append((time.perf_counter() - t0) / n)

        for it in items:
            t0 = time.perf_counter()
            store.get(it["pk"], it["sk"])  # type: ignore[arg-type]
            get_ours.append(time.perf_counter() - t0)
        for row in rows:
            t0 = time.perf_counter()
            found = raw.execute(
                "SELECT body FROM records WHERE pk = ? AND sk = ?", (row[0], row[1])
            ).fetchone()
            record = json.loads(found[0])
            record["pk"], record["sk"] = row[0], row[1]
            get_raw.append(time.perf_counter() - t0)

        big = [dict(_item(i), pk="batch") for i in range(batch)]
        t0 = time.perf_counter()
        store.put_many(big)
        batch_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        big_rows = [
            (it["pk"], it["sk"], json.dumps({k: v for k, v in it.items() if k not in ("pk", "sk")}))
            for it in big
        ]
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", big_rows)
        raw.execute("COMMIT")
        batch_raw.append(time.perf_counter() - t0)
        store.close()
        raw.close()

    put_o, put_r = statistics.median(put_ours), statistics.median(put_raw)
    b_o, b_r = statistics.median(batch_ours), statistics.median(batch_raw)
    g50_o, g50_r = statistics.median(get_ours), statistics.median(get_raw)
    return {
        "benchmark": "records",
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
        "n_single": n,
        "batch_size": batch,
        "rounds": rounds,
        "single_put": {
            "ours_puts_per_s": round(1 / put_o),
            "raw_puts_per_s": round(1 / put_r),
            "ratio": round(put_o / put_r, 3),
            "target_ratio_max": 1.5,
        },
        "single_get": {
            "ours_p50_us": round(g50_o * 1e6, 2),
            "ours_p99_us": round(_pct(get_ours, 0.99) * 1e6, 2),
            "raw_p50_us": round(g50_r * 1e6, 2),
            "raw_p99_us": round(_pct(get_raw, 0.99) * 1e6, 2),
            "ratio_p50": round(g50_o / g50_r, 3),
            "target_ratio_max": 1.5,
        },
        "batch_put": {
            "ours_puts_per_s": round(batch / b_o),
            "raw_puts_per_s": round(batch / b_r),
            "ratio": round(b_o / b_r, 3),
            "target_ratio_max": 1.3,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(run(args.n, args.batch, args.rounds), indent=2))


if __name__ == "__main__":
    main()
