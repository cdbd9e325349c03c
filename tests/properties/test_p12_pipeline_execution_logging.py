"""Property 12: each step's start/end/failure is logged with its run id and readable while
the run goes on."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError, PipelineError
from modelyard.pipelines.log import PipelineLog
from modelyard.pipelines.runner import Step, run_steps
from modelyard.storage.memory import MemoryRecordStore
from modelyard.storage.sqlite import SqliteRecordStore


@given(
    n_steps=st.integers(1, 6),
    fail_at=st.one_of(st.none(), st.integers(0, 5)),
    run_id=st.from_regex(r"[a-f0-9]{8}", fullmatch=True),
)
@settings(max_examples=50, deadline=None)
def test_p12_pipeline_execution_logging(n_steps: int, fail_at: int | None, run_id: str) -> None:
    log = PipelineLog(MemoryRecordStore())
    names = [f"step{i}" for i in range(n_steps)]

    def make(i: int) -> Step:
        def body(ctx: dict[str, Any]) -> None:
            if i == fail_at:
                raise InvalidInputError(f"bad input in {i}")
            ctx[names[i]] = True

        return Step(names[i], body)

    steps = [make(i) for i in range(n_steps)]
    failing = fail_at is not None and fail_at < n_steps
    if failing:
        with pytest.raises(PipelineError) as info:
            run_steps(steps, {}, log=log, run_id=run_id)
        assert info.value.step == names[fail_at]  # type: ignore[index]
        assert isinstance(info.value.__cause__, InvalidInputError)
    else:
        run_steps(steps, {}, log=log, run_id=run_id)

    events = log.events(run_id)
    assert all(e.run_id == run_id for e in events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    ran = names[: fail_at + 1] if failing else names  # type: ignore[operator]
    expected: list[tuple[str, str]] = [("pipeline", "run_started")]
    for name in ran:
        expected.append((name, "started"))
        expected.append((name, "failed" if failing and name == ran[-1] else "succeeded"))
    expected.append(("pipeline", "run_failed" if failing else "run_succeeded"))
    assert [(e.step, e.event) for e in events] == expected
    for e in events:
        if e.event in ("succeeded", "failed"):
            assert e.duration_s is not None
            assert e.duration_s >= 0
    if failing:
        assert "bad input" in events[-2].message


def _slow_pipeline(db: str, gate: str) -> None:
    log = PipelineLog(SqliteRecordStore(db))

    def wait_for_gate(ctx: dict[str, Any]) -> None:
        deadline = time.time() + 60
        while not Path(gate).exists() and time.time() < deadline:
            time.sleep(0.02)

    run_steps(
        [
            Step("load", lambda ctx: None),
            Step("train", wait_for_gate),
            Step("register", lambda c: None),
        ],
        {},
        log=log,
        run_id="live",
    )


@pytest.mark.slow
def test_p12_log_is_readable_while_the_run_goes_on(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    gate = tmp_path / "gate"
    SqliteRecordStore(db).find("x", "x")
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_slow_pipeline, args=(db, str(gate)))
    proc.start()
    reader = PipelineLog(SqliteRecordStore(db))
    deadline = time.time() + 60
    seen: list[tuple[str, str]] = []
    while ("train", "started") not in seen and time.time() < deadline:
        seen = [(e.step, e.event) for e in reader.events("live")]
        time.sleep(0.02)
    # mid-run: train has started and has not ended
    assert ("train", "started") in seen
    assert ("train", "succeeded") not in seen
    gate.touch()
    followed = [(e.step, e.event) for e in reader.follow("live", poll_s=0.02, timeout_s=60)]
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert followed[-1] == ("pipeline", "run_succeeded")
    assert ("register", "succeeded") in followed
