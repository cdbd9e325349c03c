"""Experiments, runs and metric points; key validation and metric value encoding.

Metric values are floats. NaN and ±infinity are **accepted** (a diverging loss is a fact worth
recording) and stored encoded as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
(the record store refuses non-finite JSON numbers); they read back as the same float. In
``--json`` output they appear as ``"nan"``, ``"inf"`` and ``"-inf"``. In search, they follow
IEEE comparison rules: NaN matches only ``!=``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = [
    "Experiment",
    "MetricPoint",
    "Run",
    "RunStatus",
    "decode_metric",
    "encode_metric",
    "metric_value",
    "parse_assignments",
    "validate_key",
]

_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/:]{0,249}$")
_ENCODED = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class RunStatus(StrEnum):
    """Where a run is in its life: running, then finished, failed or killed."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"


def validate_key(kind: str, key: object) -> str:
    """Check a param, metric or tag key; return it unchanged.

    Keys start with a letter, digit or ``_`` and use letters, digits and ``_ . - / :``;
    at most 250 characters (``val/loss``, ``fold_1.auc`` are fine; ``#`` and spaces are not).

    Raises:
        InvalidInputError: naming the kind and the key.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        shown = repr(key)[:80]
        raise InvalidInputError(
            f"{kind} key {shown} is not valid",
            hint=(
                f"a {kind} key starts with a letter, digit or '_' and uses only letters, digits "
                "and '_', '.', '-', '/', ':' (at most 250 characters)"
            ),
        )
    return key


def metric_value(key: str, value: object) -> float:
    """``value`` as a float (NaN and ±inf allowed).

    Raises:
        InvalidInputError: not a number (booleans and strings such as ``'0.5'`` included).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r}"[:200],
            hint="pass an int or float; NaN and infinity are accepted",
        )
    return float(value)


def encode_metric(value: float) -> float | str:
    """A JSON-safe form: finite floats as-is, NaN/±inf as ``"NaN"``/``"Infinity"``/…"""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_metric(stored: Any) -> float:
    """The inverse of ``encode_metric``."""
    if isinstance(stored, str):
        return _ENCODED[stored]
    return float(stored)


def parse_assignments(pairs: Iterable[str], kind: str) -> dict[str, str]:
    """Parse ``k=v`` command-line pairs; refuse malformed and duplicate keys.

    Raises:
        InvalidInputError: a pair without ``=``, an invalid key, or a key given twice.
    """
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInputError(
                f"{kind} {pair!r} is not of the form KEY=VALUE",
                hint=f"write e.g. --{kind} lr=0.1",
            )
        validate_key(kind, key)
        if key in result:
            raise InvalidInputError(
                f"{kind} {key!r} is given twice ({result[key]!r} and {value!r})",
                hint=f"give each {kind} once",
            )
        result[key] = value
    return result


def parse_metric_assignments(pairs: Iterable[str]) -> dict[str, float]:
    """Parse ``k=v`` metric pairs into floats (``nan``, ``inf``, ``-inf`` allowed).

    Raises:
        InvalidInputError: malformed pair, duplicate key, or a value that is not a number.
    """
    result: dict[str, float] = {}
    for key, text in parse_assignments(pairs, "metric").items():
        try:
            result[key] = float(text)
        except ValueError:
            raise InvalidInputError(
                f"metric {key!r} has value {text!r}, which is not a number",
                hint="write e.g. --metric auc=0.71 (nan, inf and -inf are accepted)",
            ) from None
    return result


@dataclass(frozen=True)
class Experiment:
    """A named group of runs."""

    name: str
    created_at: datetime
    created_by: str
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "description": self.description,
        }


@dataclass(frozen=True)
class MetricPoint:
    """One logged metric value: its step and when it was logged (ms since the epoch, UTC)."""

    key: str
    value: float
    step: int
    timestamp_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "step": self.step,
            "timestamp_ms": self.timestamp_ms,
        }


@dataclass(frozen=True)
class Run:
    """One tracked execution: status, times, params, latest metrics, tags and artifacts.

    ``metrics`` holds each key's latest value (highest step; on a tie, the later one);
    the full history is ``TrackingService.metric_history``.
    """

    run_id: str
    experiment: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None
    created_by: str
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    artifacts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    metric_steps: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment": self.experiment,
            "status": self.status.value,
            "start_time": self.start_time.isoformat(),
            "end_time": None if self.end_time is None else self.end_time.isoformat(),
            "created_by": self.created_by,
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": dict(self.tags),
            "artifacts": {k: dict(v) for k, v in self.artifacts.items()},
        }
