"""Webhook notifications against a real HTTP receiver on 127.0.0.1 started by the test."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from modelyard.alerts.model import AlarmDefinition, MetricDatum
from modelyard.alerts.notify import WebhookNotifier
from tests.properties.quality_support import Clock, monitor_stack


class Receiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                index = min(len(receiver.bodies) - 1, len(receiver.statuses) - 1)
                self.send_response(receiver.statuses[index])
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[[list[int]], Receiver]]:
    started: list[Receiver] = []

    def start(statuses: list[int]) -> Receiver:
        r = Receiver(statuses)
        started.append(r)
        return r

    yield start
    for r in started:
        r.close()


def notifier() -> WebhookNotifier:
    return WebhookNotifier(retries=3, backoff_s=0.01, timeout_s=5)


def test_delivered_first_time(receiver: Callable[[list[int]], Receiver]) -> None:
    r = receiver([200])
    result = notifier().post(r.url, {"alarm": "a", "new_state": "ALARM"})
    assert (result.ok, result.attempts, result.status) == (True, 1, 200)
    assert r.bodies == [{"alarm": "a", "new_state": "ALARM"}]


def test_receiver_that_fails_twice_then_succeeds(receiver: Callable[[list[int]], Receiver]) -> None:
    r = receiver([500, 503, 200])
    result = notifier().post(r.url, {"n": 1})
    assert (result.ok, result.attempts, result.status) == (True, 3, 200)
    assert len(r.bodies) == 3


def test_gives_up_after_the_retries(receiver: Callable[[list[int]], Receiver]) -> None:
    r = receiver([502])
    result = notifier().post(r.url, {"n": 1})
    assert (result.ok, result.attempts, result.status) == (False, 4, 502)
    assert result.error == "HTTP 502"


def test_client_errors_are_not_retried(receiver: Callable[[list[int]], Receiver]) -> None:
    r = receiver([400])
    result = notifier().post(r.url, {"n": 1})
    assert (result.ok, result.attempts) == (False, 1)


def test_unreachable_receiver_is_retried_then_reported() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = WebhookNotifier(retries=2, backoff_s=0.01, timeout_s=2).post(
        f"http://127.0.0.1:{port}/hook", {"n": 1}
    )
    assert (result.ok, result.attempts, result.status) == (False, 3, None)
    assert result.error


def test_alarm_transition_posts_to_the_receiver(receiver: Callable[[list[int]], Receiver]) -> None:
    r = receiver([500, 500, 200])
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC))
    stack = monitor_stack(clock, webhook=notifier())
    stack.alarms.create(
        AlarmDefinition(
            name="drift",
            namespace="ns",
            metric_name="DriftScore",
            threshold=0.5,
            period_s=60,
            actions={"ALARM": (f"webhook:{r.url}",)},
        )
    )
    stack.metrics.publish([MetricDatum("ns", "DriftScore", 0.8, clock.now)])
    t = stack.alarms.evaluate("drift")
    assert t is not None
    assert t.new_state == "ALARM"
    assert t.actions[0]["ok"] is True
    assert t.actions[0]["attempts"] == 3
    assert r.bodies[-1]["new_state"] == "ALARM"
    assert r.bodies[-1]["definition"]["metric_name"] == "DriftScore"
    assert stack.alarms.history("drift")[0].actions[0]["attempts"] == 3
