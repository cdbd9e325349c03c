"""Pipeline step log: each step's start, end, duration and failure, committed as it happens.

Events of run ``R`` live at (``pipelog#R``, ``%08d`` seq). Each event is its own committed
write, so another process can read (``events(after=…)``) and follow the log while the run goes
on. One run has one writer (the process running it), so the sequence is a local counter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from modelyard.storage.records import RecordStore

__all__ = ["EventKind", "PipelineLog", "StepEvent"]

EventKind = Literal["run_started", "started", "succeeded", "failed", "run_succeeded", "run_failed"]
_TERMINAL = ("run_succeeded", "run_failed")


@dataclass(frozen=True)
class StepEvent:
    """One line of a pipeline's log."""

    run_id: str
    seq: int
    time: datetime
    step: str
    event: EventKind
    duration_s: float | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "time": self.time.isoformat(),
            "step": self.step,
            "event": self.event,
            "duration_s": self.duration_s,
            "message": self.message,
        }

    @property
    def terminal(self) -> bool:
        return self.event in _TERMINAL


class PipelineLog:
    """Append and read the step events of pipeline runs."""

    def __init__(self, records: RecordStore) -> None:
        self._records = records
        self._next: dict[str, int] = {}

    def append(
        self,
        run_id: str,
        step: str,
        event: EventKind,
        *,
        duration_s: float | None = None,
        message: str = "",
    ) -> StepEvent:
        seq = self._next.get(run_id)
        if seq is None:
            last = list(self._records.query(f"pipelog#{run_id}", reverse=True, limit=1))
            seq = int(last[0]["seq"]) + 1 if last else 1
        self._next[run_id] = seq + 1
        entry = StepEvent(
            run_id=run_id,
            seq=seq,
            time=datetime.now(UTC),
            step=step,
            event=event,
            duration_s=None if duration_s is None else round(duration_s, 6),
            message=message[:4000],
        )
        body = entry.to_dict()
        self._records.put({"pk": f"pipelog#{run_id}", "sk": f"{seq:08d}", **body}, if_absent=True)
        return entry

    def events(self, run_id: str, *, after: int = 0) -> list[StepEvent]:
        """Events of ``run_id`` with seq > ``after``, in order."""
        prefix_after = f"{after:08d}"
        out = []
        for rec in self._records.query(f"pipelog#{run_id}"):
            if rec["sk"] <= prefix_after:
                continue
            out.append(
                StepEvent(
                    run_id=run_id,
                    seq=int(rec["seq"]),
                    time=datetime.fromisoformat(rec["time"]),
                    step=rec["step"],
                    event=rec["event"],
                    duration_s=rec.get("duration_s"),
                    message=rec.get("message", ""),
                )
            )
        return out

    def follow(
        self,
        run_id: str,
        *,
        poll_s: float = 0.2,
        timeout_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[StepEvent]:
        """Yield events as they are committed until the run ends (or ``timeout_s`` passes)."""
        seen = 0
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            for event in self.events(run_id, after=seen):
                seen = event.seq
                yield event
                if event.terminal:
                    return
            if deadline is not None and time.monotonic() > deadline:
                return
            sleep(poll_s)
