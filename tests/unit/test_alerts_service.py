"""Metrics sink (every record backend), metrics service and alarm service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from modelyard.access import AccessGuard, AuditLog, Authorizer, Principal
from modelyard.alerts.metrics import RecordMetricsSink
from modelyard.alerts.model import AlarmDefinition, MetricDatum, Transition
from modelyard.alerts.notify import WebhookNotifier
from modelyard.alerts.service import MetricsService
from modelyard.errors import (
    AlarmNotFoundError,
    AlreadyExistsError,
    InvalidInputError,
    PermissionDeniedError,
)
from modelyard.storage.records import RecordStore
from tests.properties.quality_support import Clock, monitor_stack

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def test_sink_round_trip_on_every_backend(records: RecordStore) -> None:
    sink = RecordMetricsSink(records)
    dims = {"model": "m", "version": "1"}
    sink.put_metric_data(
        [
            MetricDatum("ns", "score", 0.1, T0 + timedelta(seconds=5), "None", dims),
            MetricDatum("ns", "score", 0.3, T0 + timedelta(seconds=50), "None", dims),
            MetricDatum("ns", "score", 0.7, T0 + timedelta(seconds=70), "None", dims),
            MetricDatum("ns", "score", 9.0, T0 + timedelta(seconds=70), "None", {"model": "x"}),
            MetricDatum("other", "rows", 5, T0, "Count"),
        ]
    )
    points = sink.get_metric_statistics(
        "ns", "score", dimensions=dims, start=T0, end=T0 + timedelta(minutes=5), period_s=60
    )
    assert [(p.timestamp, p.sample_count, p.maximum) for p in points] == [
        (T0, 2, 0.3),
        (T0 + timedelta(seconds=60), 1, 0.7),
    ]
    assert points[0].average == pytest.approx(0.2)
    # exact dimension match, and [start, end)
    assert (
        sink.get_metric_statistics(
            "ns",
            "score",
            dimensions={"model": "m"},
            start=T0,
            end=T0 + timedelta(hours=1),
            period_s=60,
        )
        == []
    )
    assert (
        sink.get_metric_statistics(
            "ns", "score", dimensions=dims, start=T0, end=T0 + timedelta(seconds=5), period_s=60
        )
        == []
    )
    listed = sink.list_metrics()
    assert {(m["namespace"], m["metric_name"]) for m in listed} == {
        ("ns", "score"),
        ("other", "rows"),
    }
    assert len(sink.list_metrics("ns")) == 2


def test_metrics_service_checks_access_and_input() -> None:
    stack = monitor_stack()
    with pytest.raises(InvalidInputError):
        stack.metrics.query("ns", "m", start=T0, end=T0, period_s=60)

    class DenyAll:
        def allows(self, principal: Principal, action: str, resource: str) -> bool:
            return action.endswith(".read")

    guard = AccessGuard(Authorizer(DenyAll(), AuditLog(stack.records)), Principal("eve"))
    denied = MetricsService(guard, stack.sink)
    with pytest.raises(PermissionDeniedError):
        denied.publish([MetricDatum("ns", "m", 1.0, T0)])


def _alarm(**kw: Any) -> AlarmDefinition:
    base: dict[str, Any] = {
        "name": "hi",
        "namespace": "ns",
        "metric_name": "score",
        "threshold": 0.5,
        "period_s": 60,
    }
    return AlarmDefinition(**{**base, **kw})


def test_alarm_crud_and_errors() -> None:
    stack = monitor_stack()
    created = stack.alarms.create(_alarm(description="drift"))
    assert created["state"] == "INSUFFICIENT_DATA"
    with pytest.raises(AlreadyExistsError):
        stack.alarms.create(_alarm())
    stack.alarms.create(_alarm(threshold=0.7), replace=True)
    assert stack.alarms.get("hi")["threshold"] == 0.7
    assert [a["name"] for a in stack.alarms.list_alarms()] == ["hi"]
    with pytest.raises(AlarmNotFoundError):
        stack.alarms.get("nope")
    with pytest.raises(AlarmNotFoundError):
        stack.alarms.history("nope")
    with pytest.raises(InvalidInputError):
        stack.alarms.get("../x")
    stack.alarms.delete("hi")
    assert stack.alarms.list_alarms() == []


def test_transitions_run_actions_and_record_results() -> None:
    calls: list[str] = []

    def hook(alarm: AlarmDefinition, t: Transition) -> None:
        calls.append(t.new_state)
        if len(calls) > 1:
            raise RuntimeError("queue is full")

    posted: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(204)

    webhook = WebhookNotifier(transport=httpx.MockTransport(handler), sleep=lambda s: None)
    clock = Clock(T0)
    stack = monitor_stack(clock, retrain_hook=hook, webhook=webhook)
    stack.alarms.create(
        _alarm(actions={"ALARM": ("retrain", "webhook:http://hooks.test/x"), "OK": ("log",)})
    )

    def publish_and_evaluate(value: float) -> Transition | None:
        clock.advance(60)
        stack.metrics.publish([MetricDatum("ns", "score", value, clock.now)])
        return stack.alarms.evaluate("hi")

    t1 = publish_and_evaluate(0.9)
    assert t1 is not None
    assert (t1.old_state, t1.new_state) == ("INSUFFICIENT_DATA", "ALARM")
    assert [a["ok"] for a in t1.actions] == [True, True]
    assert publish_and_evaluate(0.95) is None  # still ALARM: no transition, no action
    t3 = publish_and_evaluate(0.1)
    assert t3 is not None
    assert t3.new_state == "OK"
    t4 = publish_and_evaluate(0.8)
    assert t4 is not None
    assert t4.new_state == "ALARM"
    assert t4.actions[0] == {
        "target": "retrain",
        "ok": False,
        "attempts": 1,
        "status": None,
        "error": "RuntimeError: queue is full",
    }
    assert calls == ["ALARM", "ALARM"]
    assert len(posted) == 2
    assert b'"new_state": "ALARM"' in posted[0].content
    history = stack.alarms.history("hi")
    assert [(t.old_state, t.new_state) for t in history] == [
        ("OK", "ALARM"),
        ("ALARM", "OK"),
        ("INSUFFICIENT_DATA", "ALARM"),
    ]
    assert history[0].actions[0]["ok"] is False


def test_evaluate_all_filters_by_namespace_and_without_hook_reports_it() -> None:
    clock = Clock(T0)
    stack = monitor_stack(clock)
    stack.alarms.create(_alarm(actions={"ALARM": ("retrain",)}))
    stack.alarms.create(_alarm(name="other", namespace="elsewhere"))
    stack.metrics.publish([MetricDatum("ns", "score", 1.0, clock.now)])
    transitions = stack.alarms.evaluate_all(namespace="ns")
    assert [t.alarm for t in transitions] == ["hi"]
    assert transitions[0].actions[0]["error"] == "no retraining hook configured"
    assert stack.alarms.get("other")["state"] == "INSUFFICIENT_DATA"
