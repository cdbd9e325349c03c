"""What survives a SIGKILL mid-run (documented in docs/registry-and-tracking.md):

* every metric value logged before ``flush()`` returned (or before the run ended);
* every value that waited ``flush_interval_s`` in the buffer (the timer writes it);
* not the values logged after the last flush and still buffered when the process died.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from modelyard.tracking import RunStatus, TrackingService
from modelyard.workspace import open_workspace

pytestmark = pytest.mark.slow
CTX = mp.get_context("fork")  # the child inherits the imported modules: quick to start


def _env(home: Path) -> dict[str, str]:
    return {"MODELYARD_HOME": str(home), "MODELYARD_USER": "k"}


def _child(home: str, interval: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    ws = open_workspace(env=_env(Path(home)))
    tracking = TrackingService(
        ws.records, ws.content, ws.guard, flush_interval_s=interval, max_buffered=100_000
    )
    run = tracking.start_run("e", params={"p": "1"})
    for step in range(500):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    if interval == 0:
        run.flush()
        for step in range(500, 800):  # buffered, never flushed
            run.log_metric("loss", 0.0, step=step)
    out.put(run.run_id)
    time.sleep(600)  # killed long before this ends


def _start(home: Path, interval: float) -> tuple[mp.Process, str]:  # type: ignore[name-defined]
    out: mp.Queue = CTX.Queue()  # type: ignore[type-arg]
    proc = CTX.Process(target=_child, args=(str(home), interval, out))
    proc.start()
    return proc, out.get(timeout=120)


def _kill(proc: mp.Process) -> None:  # type: ignore[name-defined]
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert proc.exitcode == -signal.SIGKILL


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = open_workspace(env=_env(tmp_path / "ws"), create=True)
    ws.tracking.create_experiment("e")
    ws.close()
    return tmp_path / "ws"


def test_flushed_values_survive_sigkill_buffered_ones_do_not(home: Path) -> None:
    proc, run_id = _start(home, interval=0)  # no timer: only the explicit flush writes
    _kill(proc)
    ws = open_workspace(env=_env(home))
    history = ws.tracking.metric_history(run_id, "loss")
    assert [p.step for p in history] == list(range(500))
    run = ws.tracking.get_run(run_id)
    assert run.params == {"p": "1"}
    assert run.metrics == {"loss": 1.0 / 500}
    assert run.status is RunStatus.RUNNING  # it never ended, and says so
    ws.close()


def test_the_timer_writes_buffered_values_before_a_kill(home: Path) -> None:
    proc, run_id = _start(home, interval=0.05)
    ws = open_workspace(env=_env(home))
    try:
        for _ in range(3000):  # wait (at most ~30 s) for the timer to write, then kill
            if len(ws.tracking.metric_history(run_id, "loss")) == 500:
                break
            assert proc.is_alive(), "the child died early"
            time.sleep(0.01)
    finally:
        _kill(proc)
    assert [p.step for p in ws.tracking.metric_history(run_id, "loss")] == list(range(500))
    assert ws.tracking.get_run(run_id).metrics == {"loss": 1.0 / 500}
    ws.close()
