"""Run a pipeline's steps in order, logging each one, stopping at the first failure.

A step is a name and a function of the shared context (a dict the steps fill in). A failure
raises PipelineError naming the step, with the original error chained; the log holds
``failed`` with the message. Steps are written so that only the last one (register / store)
makes anything visible, and it does so in one write: a failed run leaves nothing half-written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from modelyard.errors import ModelyardError, PipelineError
from modelyard.pipelines.log import PipelineLog

__all__ = ["Step", "run_steps"]

Context = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One named step of a pipeline."""

    name: str
    run: Callable[[Context], None]


def run_steps(
    steps: Sequence[Step],
    context: Context,
    *,
    log: PipelineLog,
    run_id: str,
    on_step: Callable[[str, int, int], None] | None = None,
) -> Context:
    """Run ``steps`` in order on ``context``.

    Args:
        on_step: called with (step name, index, total) before each step (progress bars).

    Raises:
        PipelineError: a step failed; ``.step`` names it; the cause is chained.
    """
    log.append(run_id, "pipeline", "run_started", message=", ".join(s.name for s in steps))
    started_run = time.perf_counter()
    for index, step in enumerate(steps):
        if on_step is not None:
            on_step(step.name, index, len(steps))
        log.append(run_id, step.name, "started")
        t0 = time.perf_counter()
        try:
            step.run(context)
        except BaseException as exc:
            elapsed = time.perf_counter() - t0
            what = (
                exc.message if isinstance(exc, ModelyardError) else f"{type(exc).__name__}: {exc}"
            )
            log.append(run_id, step.name, "failed", duration_s=elapsed, message=what)
            log.append(
                run_id,
                "pipeline",
                "run_failed",
                duration_s=time.perf_counter() - started_run,
                message=f"step {step.name!r} failed",
            )
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            hint = exc.hint if isinstance(exc, ModelyardError) else None
            raise PipelineError(
                f"step {step.name!r} of run {run_id} failed: {what}", step=step.name, hint=hint
            ) from exc
        log.append(run_id, step.name, "succeeded", duration_s=time.perf_counter() - t0)
    log.append(run_id, "pipeline", "run_succeeded", duration_s=time.perf_counter() - started_run)
    if on_step is not None:
        on_step("done", len(steps), len(steps))
    return context
