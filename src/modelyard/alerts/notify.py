"""Notifications on alarm transitions: a log line, or a webhook POST with retries."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["LogNotifier", "NotificationResult", "WebhookNotifier"]

log = logging.getLogger("modelyard.alerts")


@dataclass(frozen=True)
class NotificationResult:
    """What one notification did: ``ok``, how many attempts, the last status or error."""

    target: str
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "attempts": self.attempts,
            "status": self.status,
            "error": self.error,
        }


class LogNotifier:
    """Writes one line per transition to the ``modelyard.alerts`` logger."""

    def notify(self, payload: Mapping[str, Any]) -> NotificationResult:
        log.warning(
            "alarm %s: %s -> %s: %s",
            payload.get("alarm"),
            payload.get("old_state"),
            payload.get("new_state"),
            payload.get("reason"),
        )
        return NotificationResult("log", True, 1)


class WebhookNotifier:
    """POSTs the transition as JSON; retries connection errors, 429 and 5xx with backoff.

    A 4xx other than 429 is the receiver refusing the payload: not retried.
    """

    def __init__(
        self,
        *,
        retries: int = 3,
        backoff_s: float = 0.2,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._transport = transport
        self._sleep = sleep

    def post(self, url: str, payload: Mapping[str, Any]) -> NotificationResult:
        body = json.dumps(dict(payload), default=str).encode()
        headers = {"content-type": "application/json", "user-agent": "modelyard-alerts"}
        attempts = 0
        status: int | None = None
        error: str | None = None
        with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
            for attempt in range(self.retries + 1):
                attempts = attempt + 1
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    status, error = None, f"{type(exc).__name__}: {exc}"
                else:
                    status = response.status_code
                    if response.is_success:
                        return NotificationResult(f"webhook:{url}", True, attempts, status)
                    error = f"HTTP {status}"
                    if status < 500 and status != 429:
                        break
                if attempt < self.retries:
                    self._sleep(self.backoff_s * (2**attempt))
        log.error("webhook %s failed after %d attempt(s): %s", url, attempts, error)
        return NotificationResult(f"webhook:{url}", False, attempts, status, error)
