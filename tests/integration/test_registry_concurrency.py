"""Real processes: 8 registering in parallel on the embedded default (SQLite + local files)."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from modelyard.workspace import open_workspace

pytestmark = pytest.mark.slow
# fork: the children inherit the imported modules (importing modelyard afresh in 8 processes
# at once costs far more than the registrations themselves on a 2-core machine).
CTX = mp.get_context("fork")
N_PROCS = 8
PER_PROC = 25


def _env(home: Path) -> dict[str, str]:
    return {"MODELYARD_HOME": str(home), "MODELYARD_USER": "racer"}


def _register_worker(home: str, worker: int, start_at: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    ws = open_workspace(env=_env(Path(home)))
    folder = Path(home) / f"w{worker}"
    folder.mkdir()
    while time.time() < start_at:
        time.sleep(0.001)
    got = []
    for i in range(PER_PROC):
        artifact = folder / "model.txt"
        artifact.write_text(f"worker {worker} model {i}\n")
        mv = ws.registry.register("shared", [artifact], metrics={"worker": worker, "i": i})
        got.append((mv.version, worker, i, mv.artifacts[0].sha256))
    out.put(got)


def test_eight_processes_register_200_versions(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    open_workspace(env=_env(home), create=True).close()
    out: mp.Queue = CTX.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 0.5
    procs = [
        CTX.Process(target=_register_worker, args=(str(home), w, start_at, out))
        for w in range(N_PROCS)
    ]
    for p in procs:
        p.start()
    results = [row for _ in procs for row in out.get(timeout=300)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    total = N_PROCS * PER_PROC
    assert sorted(v for v, *_ in results) == list(range(1, total + 1))  # no collision, no gap

    ws = open_workspace(env=_env(home))
    versions = ws.registry.list_versions("shared")
    assert [v.version for v in versions] == list(range(1, total + 1))
    by_version = {v: (w, i, sha) for v, w, i, sha in results}
    for mv in versions:
        worker, i, sha = by_version[mv.version]
        assert mv.metrics == {"worker": worker, "i": i}
        assert mv.artifacts[0].sha256 == sha
        data = ws.registry.load_artifact("shared", mv.version)  # verified against sha256
        assert data == f"worker {worker} model {i}\n".encode()
    # each version was also recorded once in the lineage-free model index
    assert [m.latest_version for m in ws.registry.list_models()] == [total]
    ws.close()
