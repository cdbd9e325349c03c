"""Use cases: publish and query metrics; create, evaluate and inspect alarms.

Records: ``alarms`` / ``<name>`` holds the definition and the current state;
``alarm-history#<name>`` / ``<time>#<id>`` one transition each (written in the same
transaction as the state change, so history and state never disagree).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from modelyard.access.service import AccessGuard
from modelyard.alerts.metrics import MetricId, MetricsSink
from modelyard.alerts.model import (
    AlarmDefinition,
    AlarmState,
    Datapoint,
    MetricDatum,
    State,
    Transition,
)
from modelyard.alerts.notify import LogNotifier, NotificationResult, WebhookNotifier
from modelyard.alerts.rules import evaluate, evaluation_window
from modelyard.errors import (
    AlarmNotFoundError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    RecordExistsError,
)
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, RecordStore

__all__ = ["AlarmService", "MetricsService", "RetrainHook"]

RetrainHook = Callable[[AlarmDefinition, Transition], Any]
Clock = Callable[[], datetime]

_ALARMS = "alarms"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MetricsService:
    """Publishing and reading metrics through the sink (audited)."""

    def __init__(self, guard: AccessGuard, sink: MetricsSink) -> None:
        self._guard = guard
        self._sink = sink

    def publish(self, data: Sequence[MetricDatum]) -> None:
        namespaces = sorted({d.namespace for d in data})
        for ns in namespaces:
            self._guard.check("metrics.put", f"metrics/{ns}")
        self._sink.put_metric_data(data)

    def query(
        self,
        namespace: str,
        metric_name: str,
        *,
        dimensions: Mapping[str, str] | None = None,
        start: datetime,
        end: datetime,
        period_s: int = 300,
    ) -> list[Datapoint]:
        """Per-period statistics of one series in [start, end).

        Raises:
            InvalidInputError: start after end, naive datetimes, period < 1.
        """
        self._guard.check("metrics.read", f"metrics/{namespace}")
        if start >= end:
            raise InvalidInputError(
                f"start {start.isoformat()} is not before end {end.isoformat()}"
            )
        return self._sink.get_metric_statistics(
            namespace, metric_name, dimensions=dimensions, start=start, end=end, period_s=period_s
        )

    def list_metrics(self, namespace: str | None = None) -> list[MetricId]:
        self._guard.check("metrics.read", f"metrics/{namespace or '*'}")
        return self._sink.list_metrics(namespace)


class AlarmService:
    """Alarms with CloudWatch semantics over the metrics sink; actions on transitions."""

    def __init__(
        self,
        records: RecordStore,
        guard: AccessGuard,
        sink: MetricsSink,
        *,
        webhook: WebhookNotifier | None = None,
        retrain_hook: RetrainHook | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self._records = records
        self._guard = guard
        self._sink = sink
        self._webhook = webhook or WebhookNotifier()
        self._log = LogNotifier()
        self.retrain_hook = retrain_hook
        self._clock = clock

    # -- definitions ---------------------------------------------------------------------------
    def create(self, alarm: AlarmDefinition, *, replace: bool = False) -> dict[str, Any]:
        """Store an alarm (state INSUFFICIENT_DATA until first evaluated).

        Raises:
            AlreadyExistsError: an alarm of that name exists and ``replace`` is False.
        """
        self._guard.check("alarms.create", f"alarm/{alarm.name}")
        now = self._clock()
        existing = self._records.find(_ALARMS, alarm.name)
        state = (
            AlarmState(existing["state"], existing["reason"], _dt(existing["updated_at"]))
            if existing is not None and replace
            else AlarmState("INSUFFICIENT_DATA", "created; not evaluated yet", now)
        )
        item = {
            "pk": _ALARMS,
            "sk": alarm.name,
            "definition": alarm.to_dict(),
            **state.to_dict(),
            "created_at": existing["created_at"] if existing and replace else now.isoformat(),
        }
        try:
            self._records.put(item, if_absent=not replace)
        except RecordExistsError as exc:
            raise AlreadyExistsError(
                f"alarm {alarm.name!r} exists already",
                hint="choose another name, or replace it (--replace)",
            ) from exc
        return self._view(item)

    def get(self, name: str) -> dict[str, Any]:
        """The alarm's definition and state.

        Raises:
            AlarmNotFoundError: no such alarm.
        """
        validate_name("alarm", name)
        self._guard.check("alarms.read", f"alarm/{name}")
        return self._view(self._item(name))

    def list_alarms(self) -> list[dict[str, Any]]:
        self._guard.check("alarms.read", "alarm/*")
        return [self._view(item) for item in self._records.query(_ALARMS)]

    def delete(self, name: str) -> None:
        validate_name("alarm", name)
        self._guard.check("alarms.delete", f"alarm/{name}")
        self._item(name)
        self._records.delete(_ALARMS, name)

    def history(self, name: str, *, limit: int | None = 100) -> list[Transition]:
        """Transitions, newest first.

        Raises:
            AlarmNotFoundError: no such alarm.
        """
        validate_name("alarm", name)
        self._guard.check("alarms.read", f"alarm/{name}")
        self._item(name)
        return [
            Transition.from_dict(r)
            for r in self._records.query(f"alarm-history#{name}", reverse=True, limit=limit)
        ]

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self, name: str, *, now: datetime | None = None) -> Transition | None:
        """Evaluate one alarm now; on a state change record it and run its actions.

        Raises:
            AlarmNotFoundError: no such alarm.
        """
        validate_name("alarm", name)
        self._guard.check("alarms.evaluate", f"alarm/{name}")
        return self._evaluate_item(self._item(name), now or self._clock())

    def evaluate_all(
        self, *, namespace: str | None = None, now: datetime | None = None
    ) -> list[Transition]:
        """Evaluate every alarm (of one namespace); return the transitions that happened."""
        self._guard.check("alarms.evaluate", "alarm/*")
        at = now or self._clock()
        out = []
        for item in list(self._records.query(_ALARMS)):
            if namespace is not None and item["definition"]["namespace"] != namespace:
                continue
            transition = self._evaluate_item(item, at)
            if transition is not None:
                out.append(transition)
        return out

    def _evaluate_item(self, item: Mapping[str, Any], now: datetime) -> Transition | None:
        alarm = AlarmDefinition.from_dict(item["definition"])
        start, end = evaluation_window(alarm, now)
        points = self._sink.get_metric_statistics(
            alarm.namespace,
            alarm.metric_name,
            dimensions=alarm.dimensions,
            start=start,
            end=end,
            period_s=alarm.period_s,
        )
        old: State = item["state"]
        result = evaluate(alarm, points, now, old)
        if result.state == old:
            return None
        transition = Transition(alarm.name, now, old, result.state, result.reason)
        sk = f"{now.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{uuid.uuid4().hex[:8]}"
        updated = {**item, "state": result.state, "reason": result.reason}
        updated["updated_at"] = now.isoformat()
        try:
            self._records.transact(
                [
                    Put(
                        dict(updated),
                        expect={"state": old, "updated_at": item["updated_at"]},
                    ),
                    Put(self._history_item(transition, sk)),
                ]
            )
        except ConflictError:
            return None  # another evaluator changed the state first; it ran the actions
        results = self._run_actions(alarm, transition)
        if results:
            transition = Transition(
                alarm.name, now, old, result.state, result.reason, tuple(results)
            )
            self._records.put(self._history_item(transition, sk))
        return transition

    @staticmethod
    def _history_item(t: Transition, sk: str) -> dict[str, Any]:
        return {"pk": f"alarm-history#{t.alarm}", "sk": sk, **t.to_dict()}

    def _run_actions(self, alarm: AlarmDefinition, t: Transition) -> list[dict[str, Any]]:
        payload = {**t.to_dict(), "definition": alarm.to_dict()}
        results: list[dict[str, Any]] = []
        for target in alarm.actions.get(t.new_state, ()):
            if target == "log":
                results.append(self._log.notify(payload).to_dict())
            elif target.startswith("webhook:"):
                results.append(
                    self._webhook.post(target.removeprefix("webhook:"), payload).to_dict()
                )
            elif target == "retrain":
                results.append(self._retrain(alarm, t).to_dict())
        return results

    def _retrain(self, alarm: AlarmDefinition, t: Transition) -> NotificationResult:
        if self.retrain_hook is None:
            return NotificationResult("retrain", False, 0, error="no retraining hook configured")
        try:
            self.retrain_hook(alarm, t)
        except Exception as exc:  # noqa: BLE001 -- a failing hook must not undo the transition
            return NotificationResult("retrain", False, 1, error=f"{type(exc).__name__}: {exc}")
        return NotificationResult("retrain", True, 1)

    # -- helpers -------------------------------------------------------------------------------
    def _item(self, name: str) -> dict[str, Any]:
        item = self._records.find(_ALARMS, name)
        if item is None:
            raise AlarmNotFoundError(f"no alarm named {name!r}")
        return item

    @staticmethod
    def _view(item: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **item["definition"],
            "state": item["state"],
            "reason": item["reason"],
            "updated_at": item["updated_at"],
            "created_at": item.get("created_at"),
        }


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)
