"""Experiment tracking use cases over the RecordStore and ContentStore ports.

Record layout (one RecordStore, see ``modelyard.storage.records``)::

    experiments      / <name>                         the experiment
    exp#<name>       / run#<run_id>                   the run summary: status, times, params,
                                                      tags, artifacts, latest metric values
    run#<run_id>     / meta                           which experiment the run belongs to
    run#<run_id>     / m#<key>#<step:012d>#<ns>       one logged metric value (its history)

Search reads only the ``exp#<name>`` partitions (one record per run), so a filter over 10,000
runs decodes 10,000 small records.

Durability of metrics: ``ActiveRun.log_metric`` returns once the value is buffered in memory.
Buffered values are written (the history, then the run's latest values) in one batch when
``flush()`` is called, when the run ends, when ``max_buffered`` values are waiting, and by a
timer at most ``flush_interval_s`` (default 1 s) after a value entered an empty buffer. So
after a SIGKILL every value logged before the last flush is there, and at most the values of
the last ``flush_interval_s`` are lost. Params, tags, artifacts and status changes are written
through immediately. Authorization is checked (and audited) once when a run handle is
obtained, not on every metric.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from modelyard.errors import (
    ArtifactNotFoundError,
    ConflictError,
    ExperimentNotFoundError,
    InvalidInputError,
    ModelyardError,
    RecordExistsError,
    RunNotFoundError,
)
from modelyard.storage.blobs import BlobRef, ContentStore
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, Record, RecordStore
from modelyard.tracking.model import (
    Experiment,
    MetricPoint,
    Run,
    RunStatus,
    decode_metric,
    encode_metric,
    metric_value,
    validate_key,
)
from modelyard.tracking.search import apply_order, compile_filter, parse_query

__all__ = ["ActiveRun", "Guard", "RunComparison", "TrackingService"]

_EXPERIMENTS = "experiments"
_MAX_UPDATE_ATTEMPTS = 100
_RUN_ID_CHARS = frozenset("0123456789abcdef")


class Guard(Protocol):
    """The access seam (``modelyard.access.AccessGuard``)."""

    @property
    def principal(self) -> Any: ...

    def check(self, action: str, resource: str) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def _check_run_id(run_id: object) -> str:
    if not (isinstance(run_id, str) and len(run_id) == 32 and set(run_id) <= _RUN_ID_CHARS):
        raise RunNotFoundError(
            f"{str(run_id)[:80]!r} is not a run id (run ids are 32 hexadecimal characters)"
        )
    return run_id


def _run_from_record(rec: Mapping[str, Any]) -> Run:
    # Hot in search (one call per match): no copies, the record is a fresh dict already.
    end = rec.get("end_time")
    metrics = rec["metrics"]
    if any(isinstance(v, str) for v in metrics.values()):
        metrics = {k: decode_metric(v) for k, v in metrics.items()}
    return Run(
        run_id=rec["run_id"],
        experiment=rec["experiment"],
        status=RunStatus(rec["status"]),
        start_time=datetime.fromisoformat(rec["start_time"]),
        end_time=None if end is None else datetime.fromisoformat(end),
        created_by=rec["created_by"],
        params=rec["params"],
        metrics=metrics,
        tags=rec["tags"],
        artifacts=rec["artifacts"],
        metric_steps={k: v[0] for k, v in rec["metric_steps"].items()},
    )


def _newer(step: int, ts_ms: int, stored: Sequence[int] | None) -> bool:
    return stored is None or (step, ts_ms) >= (int(stored[0]), int(stored[1]))


@dataclass(frozen=True)
class RunComparison:
    """Runs side by side: for every key, one value per run (None where a run lacks it)."""

    runs: tuple[Run, ...]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]
    tags: dict[str, list[str | None]]

    @property
    def differing_params(self) -> list[str]:
        return [k for k, vs in self.params.items() if len(set(vs)) > 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_ids": [r.run_id for r in self.runs],
            "runs": [r.to_dict() for r in self.runs],
            "params": self.params,
            "metrics": self.metrics,
            "tags": self.tags,
            "differing_params": self.differing_params,
        }


class TrackingService:
    """Experiments and runs.

    Args:
        records: the metadata store.
        content: the content-addressed artifact store.
        guard: authorizes (and audits) every operation.
        flush_interval_s: the longest a logged metric waits in memory before it is written.
        max_buffered: a handle writes synchronously once this many values are waiting.
    """

    def __init__(
        self,
        records: RecordStore,
        content: ContentStore,
        guard: Guard,
        *,
        flush_interval_s: float = 1.0,
        max_buffered: int = 1000,
    ) -> None:
        self._records = records
        self._content = content
        self._guard = guard
        self.flush_interval_s = flush_interval_s
        self.max_buffered = max_buffered

    @property
    def _user(self) -> str:
        return str(self._guard.principal.name)

    # -- experiments -------------------------------------------------------------------------
    def create_experiment(
        self, name: str, *, description: str = "", exist_ok: bool = False
    ) -> Experiment:
        """Create an experiment.

        Raises:
            InvalidInputError: invalid name.
            AlreadyExistsError: it exists and ``exist_ok`` is false.
        """
        validate_name("experiment", name)
        self._guard.check("experiments.create", f"experiment/{name}")
        now = _now()
        record = {
            "pk": _EXPERIMENTS,
            "sk": name,
            "name": name,
            "description": description,
            "created_at": now.isoformat(),
            "created_by": self._user,
        }
        try:
            self._records.put(record, if_absent=True)
        except RecordExistsError:
            if exist_ok:
                return self._experiment(self._records.get(_EXPERIMENTS, name))
            raise RecordExistsError(
                f"experiment {name!r} already exists",
                hint="use it, or choose another name",
            ) from None
        return self._experiment(record)

    @staticmethod
    def _experiment(rec: Record) -> Experiment:
        return Experiment(
            name=rec["name"],
            created_at=datetime.fromisoformat(rec["created_at"]),
            created_by=rec["created_by"],
            description=rec.get("description", ""),
        )

    def get_experiment(self, name: str) -> Experiment:
        """Raises: ExperimentNotFoundError."""
        validate_name("experiment", name)
        self._guard.check("experiments.read", f"experiment/{name}")
        return self._experiment(self._require_experiment(name))

    def _require_experiment(self, name: str) -> Record:
        rec = self._records.find(_EXPERIMENTS, name)
        if rec is None:
            raise ExperimentNotFoundError(
                f"no experiment named {name!r}",
                hint=f"create it with `modelyard experiments create {name}`",
            )
        return rec

    def list_experiments(self) -> list[Experiment]:
        """Every experiment, by name."""
        self._guard.check("experiments.read", "experiment/*")
        return [self._experiment(r) for r in self._records.query(_EXPERIMENTS)]

    # -- runs --------------------------------------------------------------------------------
    def start_run(
        self,
        experiment: str,
        *,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ActiveRun:
        """Start a run and return its handle (a context manager).

        ``with tracking.start_run("exp") as run:`` ends the run as finished, or as failed if
        the block raises (killed on KeyboardInterrupt).

        Raises:
            ExperimentNotFoundError: no such experiment.
            InvalidInputError: an invalid param or tag key.
        """
        validate_name("experiment", experiment)
        clean_params = {validate_key("param", k): str(v) for k, v in (params or {}).items()}
        clean_tags = {validate_key("tag", k): str(v) for k, v in (tags or {}).items()}
        self._guard.check("runs.create", f"experiment/{experiment}")
        self._require_experiment(experiment)
        run_id = uuid.uuid4().hex
        now = _now()
        summary: Record = {
            "pk": f"exp#{experiment}",
            "sk": f"run#{run_id}",
            "run_id": run_id,
            "experiment": experiment,
            "status": RunStatus.RUNNING.value,
            "start_time": now.isoformat(),
            "start_ms": _ms(now),
            "end_time": None,
            "end_ms": None,
            "created_by": self._user,
            "params": clean_params,
            "tags": clean_tags,
            "metrics": {},
            "metric_steps": {},
            "artifacts": {},
            "revision": 1,
        }
        pointer = {"pk": f"run#{run_id}", "sk": "meta", "experiment": experiment}
        self._records.transact([Put(pointer, if_absent=True), Put(summary, if_absent=True)])
        return ActiveRun(self, summary)

    def resume_run(self, run_id: str) -> ActiveRun:
        """A handle on an existing run, to log more to it (or end it).

        Raises:
            RunNotFoundError: no such run.
        """
        rec = self._summary(run_id)
        self._guard.check("runs.write", f"run/{run_id}")
        return ActiveRun(self, rec)

    def record_run(
        self,
        experiment: str,
        *,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:
        """Record a finished run in one call (what ``modelyard runs create`` does).

        Everything is validated before anything is written.

        Raises:
            ExperimentNotFoundError, InvalidInputError.
        """
        clean_metrics = {
            validate_key("metric", k): metric_value(k, v) for k, v in (metrics or {}).items()
        }
        with self.start_run(experiment, params=params, tags=tags) as run:
            run.log_metrics(clean_metrics, step=0)
        return self.get_run(run.run_id)

    def _experiment_of(self, run_id: str) -> str:
        pointer = self._records.find(f"run#{_check_run_id(run_id)}", "meta")
        if pointer is None:
            raise RunNotFoundError(f"no run with id {run_id!r}")
        return str(pointer["experiment"])

    def _summary(self, run_id: str) -> Record:
        experiment = self._experiment_of(run_id)
        rec = self._records.find(f"exp#{experiment}", f"run#{run_id}")
        if rec is None:
            raise RunNotFoundError(f"run {run_id!r} has no summary record (damaged store?)")
        return rec

    def get_run(self, run_id: str) -> Run:
        """Raises: RunNotFoundError."""
        rec = self._summary(run_id)
        self._guard.check("runs.read", f"run/{run_id}")
        return _run_from_record(rec)

    def find_run(self, run_id: str) -> Run | None:
        """The run, or None if there is none with this id."""
        try:
            return self.get_run(run_id)
        except RunNotFoundError:
            return None

    def _rows(self, experiments: Sequence[str] | None) -> Iterator[Record]:
        if experiments is None:
            names = [r["name"] for r in self._records.query(_EXPERIMENTS)]
        else:
            names = list(experiments)
            for name in names:
                validate_name("experiment", name)
                self._require_experiment(name)
        for name in names:
            yield from self._records.query(f"exp#{name}", prefix="run#")

    def list_runs(self, experiment: str | None = None, *, limit: int | None = None) -> list[Run]:
        """Runs, newest first (of one experiment, or of all)."""
        experiments = None if experiment is None else [experiment]
        return self.search_runs("", experiments=experiments, limit=limit)

    def search_runs(
        self,
        filter: str = "",
        *,
        experiments: Sequence[str] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[Run]:
        """Runs matching ``filter`` (see ``modelyard.tracking.search`` for the language).

        ``order_by`` items are ``"FIELD [asc|desc]"`` and apply after any ORDER BY in the
        filter; ``limit`` and a LIMIT in the filter both apply (the smaller wins).

        Raises:
            FilterSyntaxError: the filter does not parse (names the column).
            ExperimentNotFoundError: a named experiment does not exist.
        """
        query = parse_query(filter)
        extra = [parse_query(f"order by {item}").order for item in order_by]
        order = list(query.order) + [key for keys in extra for key in keys]
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must be >= 0, got {limit}")
        self._guard.check("runs.read", "run/*")
        predicate = compile_filter(query)
        rows = [row for row in self._rows(experiments) if predicate(row)]
        ordered = apply_order(rows, order)
        limits = [n for n in (query.limit, limit) if n is not None]
        if limits:
            ordered = ordered[: min(limits)]
        return [_run_from_record(r) for r in ordered]

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every value logged for ``key``, by step then logging order.

        Raises:
            RunNotFoundError.
        """
        validate_key("metric", key)
        self._experiment_of(run_id)
        self._guard.check("runs.read", f"run/{run_id}")
        return [
            MetricPoint(key, decode_metric(r["value"]), int(r["step"]), int(r["timestamp_ms"]))
            for r in self._records.query(f"run#{run_id}", prefix=f"m#{key}#")
        ]

    def compare_runs(self, run_ids: Sequence[str]) -> RunComparison:
        """Runs side by side: every param, latest metric and tag of each.

        Raises:
            InvalidInputError: fewer than two ids, or an id given twice.
            RunNotFoundError: an unknown id.
        """
        if len(run_ids) < 2:
            raise InvalidInputError(
                f"comparing needs at least two run ids, got {len(run_ids)}",
                hint="give two or more ids: `modelyard runs compare ID ID ...`",
            )
        if len(set(run_ids)) != len(run_ids):
            raise InvalidInputError("a run id is given twice")
        runs = tuple(self.get_run(rid) for rid in run_ids)

        def side_by_side(maps: list[Mapping[str, Any]]) -> dict[str, list[Any]]:
            keys = sorted({k for m in maps for k in m})
            return {k: [m.get(k) for m in maps] for k in keys}

        return RunComparison(
            runs=runs,
            params=side_by_side([r.params for r in runs]),
            metrics=side_by_side([r.metrics for r in runs]),
            tags=side_by_side([r.tags for r in runs]),
        )

    def get_artifact(self, run_id: str, name: str) -> bytes:
        """The verified bytes of a run artifact.

        Raises:
            RunNotFoundError, ArtifactNotFoundError, ChecksumMismatchError.
        """
        run = self.get_run(run_id)
        ref = run.artifacts.get(name)
        if ref is None:
            raise ArtifactNotFoundError(
                f"run {run_id!r} has no artifact {name!r}; it has: "
                f"{', '.join(sorted(run.artifacts)) or 'none'}",
                hint="run `modelyard runs show ID` to see its artifacts",
            )
        return self._content.get(BlobRef(str(ref["sha256"]), int(ref["size_bytes"])))

    # -- used by ActiveRun -----------------------------------------------------------------
    def _update_summary(self, rec: Record, change: Callable[[Record], None]) -> Record:
        """Apply ``change`` to the run summary with optimistic locking; return the new one."""
        current = rec
        for _ in range(_MAX_UPDATE_ATTEMPTS):
            new = dict(current)
            for field in ("params", "tags", "metrics", "metric_steps", "artifacts"):
                new[field] = dict(current[field])
            change(new)
            new["revision"] = int(current["revision"]) + 1
            try:
                self._records.put(new, expect={"revision": current["revision"]})
            except ConflictError:
                current = self._records.get(rec["pk"], rec["sk"])
                continue
            return new
        raise ConflictError(
            f"run {rec['run_id']!r} kept changing under this writer; gave up after "
            f"{_MAX_UPDATE_ATTEMPTS} attempts"
        )


class ActiveRun:
    """A handle on one run: log params, metrics, tags and artifacts; end it.

    Obtained from ``TrackingService.start_run`` or ``resume_run`` (authorized once there).
    Thread-safe. See the module docstring for when buffered metrics reach the store.
    """

    def __init__(self, service: TrackingService, summary: Record) -> None:
        self._svc = service
        self._summary = summary
        self._lock = threading.RLock()
        self._buffer: list[Record] = []
        self._pending_latest: dict[str, tuple[float | str, int, int]] = {}
        self._next_step = {k: int(v[0]) + 1 for k, v in summary["metric_steps"].items()}
        self._valid_keys: set[str] = set()
        self._last_ns = 0
        self._timer: threading.Timer | None = None
        self._timer_error: ModelyardError | None = None
        self._ended = summary["status"] != RunStatus.RUNNING.value
        if not self._ended:
            _OPEN_RUNS.add(self)

    @property
    def run_id(self) -> str:
        return str(self._summary["run_id"])

    @property
    def experiment(self) -> str:
        return str(self._summary["experiment"])

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, experiment={self.experiment!r})"

    def _check_open(self) -> None:
        if self._ended:
            raise ConflictError(
                f"run {self.run_id!r} has ended ({self._summary['status']}); "
                "nothing more can be logged to it",
                hint="start a new run",
            )
        if self._timer_error is not None:
            error, self._timer_error = self._timer_error, None
            raise error

    # -- metrics (the hot path) ----------------------------------------------------------------
    def log_metric(
        self, key: str, value: float, *, step: int | None = None, timestamp_ms: int | None = None
    ) -> None:
        """Log one value of ``key``; ``step`` defaults to the key's previous step + 1 (0 first).

        Raises:
            InvalidInputError: invalid key, a value that is not a number, a negative step.
            ConflictError: the run has ended.
        """
        if key not in self._valid_keys:
            validate_key("metric", key)
        number = metric_value(key, value)
        with self._lock:
            self._check_open()
            if step is None:
                step = self._next_step.get(key, 0)
            elif isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise InvalidInputError(f"step must be a whole number >= 0, got {step!r}")
            self._valid_keys.add(key)
            ns = max(time.time_ns(), self._last_ns + 1)
            self._last_ns = ns
            ts = ns // 1_000_000 if timestamp_ms is None else int(timestamp_ms)
            stored = encode_metric(number)
            self._buffer.append(
                {
                    "pk": f"run#{self.run_id}",
                    "sk": f"m#{key}#{step:012d}#{ns:019d}",
                    "key": key,
                    "step": step,
                    "value": stored,
                    "timestamp_ms": ts,
                }
            )
            if step >= self._next_step.get(key, 0):
                self._next_step[key] = step + 1
            latest = self._pending_latest.get(key)
            if latest is None or (step, ts) >= (latest[1], latest[2]):
                self._pending_latest[key] = (stored, step, ts)
            if len(self._buffer) >= self._svc.max_buffered:
                self._flush_locked()
            elif self._timer is None and self._svc.flush_interval_s > 0:
                self._timer = threading.Timer(self._svc.flush_interval_s, self._timer_flush)
                self._timer.daemon = True
                self._timer.start()

    def log_metrics(self, metrics: Mapping[str, float], *, step: int | None = None) -> None:
        """Log several metrics (validated together before any is buffered)."""
        for key, value in metrics.items():
            validate_key("metric", key)
            metric_value(key, value)
        for key, value in metrics.items():
            self.log_metric(key, value, step=step)

    def _timer_flush(self) -> None:
        with self._lock:
            self._timer = None
            try:
                self._flush_locked()
            except ModelyardError as exc:  # surfaced on the next call of the owner
                self._timer_error = exc

    def flush(self) -> None:
        """Write every buffered metric value now; on return they survive a SIGKILL."""
        with self._lock:
            if self._timer_error is not None:
                error, self._timer_error = self._timer_error, None
                raise error
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._buffer:
            return
        points, latest = self._buffer, self._pending_latest
        self._svc._records.put_many(points)
        self._buffer, self._pending_latest = [], {}

        def merge(rec: Record) -> None:
            for key, (stored, step, ts) in latest.items():
                if _newer(step, ts, rec["metric_steps"].get(key)):
                    rec["metrics"][key] = stored
                    rec["metric_steps"][key] = [step, ts]

        self._summary = self._svc._update_summary(self._summary, merge)

    # -- params, tags, artifacts (written through) -----------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        """Log a param (stored as a string). Params never change once logged.

        Raises:
            InvalidInputError: invalid key, or the param was logged before with another value.
        """
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log several params at once (all or nothing)."""
        clean = {validate_key("param", k): str(v) for k, v in params.items()}

        def add(rec: Record) -> None:
            for key, value in clean.items():
                old = rec["params"].get(key)
                if old is not None and old != value:
                    raise InvalidInputError(
                        f"param {key!r} of run {self.run_id!r} is already {old!r}; "
                        f"params never change (got {value!r})",
                        hint="log it under another key, or start a new run",
                    )
                rec["params"][key] = value

        with self._lock:
            self._check_open()
            self._summary = self._svc._update_summary(self._summary, add)

    def set_tag(self, key: str, value: str) -> None:
        """Set (or replace) a tag."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set several tags at once."""
        clean = {validate_key("tag", k): str(v) for k, v in tags.items()}
        with self._lock:
            self._check_open()
            self._summary = self._svc._update_summary(
                self._summary, lambda rec: rec["tags"].update(clean)
            )

    def log_artifact(self, path: str | Path, *, name: str | None = None) -> BlobRef:
        """Store a file (content-addressed, sha256) as an artifact of this run.

        Raises:
            InvalidInputError: the path is missing or a folder, or the name is invalid.
            ConflictError: an artifact of this name with other content exists.
        """
        source = Path(path)
        artifact = validate_name("artifact", name if name is not None else source.name)
        with self._lock:
            self._check_open()
            ref = self._svc._content.put_file(source)

            def add(rec: Record) -> None:
                old = rec["artifacts"].get(artifact)
                if old is not None and old["sha256"] != ref.sha256:
                    raise ConflictError(
                        f"run {self.run_id!r} already has an artifact {artifact!r} "
                        "with other content; artifacts never change",
                        hint="log it under another name",
                    )
                rec["artifacts"][artifact] = ref.to_dict()

            self._summary = self._svc._update_summary(self._summary, add)
        return ref

    # -- ending ------------------------------------------------------------------------------
    def end(self, status: RunStatus | str = RunStatus.FINISHED) -> None:
        """Flush and end the run with ``status`` (finished, failed or killed). Idempotent."""
        final = RunStatus(status)
        if final is RunStatus.RUNNING:
            raise InvalidInputError("a run cannot end as 'running'")
        with self._lock:
            if self._ended:
                return
            self._flush_locked()
            now = _now()

            def finish(rec: Record) -> None:
                rec["status"] = final.value
                rec["end_time"] = now.isoformat()
                rec["end_ms"] = _ms(now)

            self._summary = self._svc._update_summary(self._summary, finish)
            self._ended = True
            _OPEN_RUNS.discard(self)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED)
        elif issubclass(exc_type, Exception):
            self.end(RunStatus.FAILED)
        else:
            self.end(RunStatus.KILLED)


_OPEN_RUNS: weakref.WeakSet[ActiveRun] = weakref.WeakSet()


@atexit.register
def _flush_open_runs() -> None:
    # A normal interpreter exit writes what is still buffered (a SIGKILL cannot).
    for run in list(_OPEN_RUNS):
        with contextlib.suppress(ModelyardError):
            run.flush()
