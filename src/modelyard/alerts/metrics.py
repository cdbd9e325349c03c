"""The metrics sink port (CloudWatch-shaped) and its local adapter over the RecordStore.

A CloudWatch adapter implements the same three methods with ``PutMetricData``,
``GetMetricStatistics`` and ``ListMetrics``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from modelyard.alerts.model import Datapoint, MetricDatum
from modelyard.alerts.rules import aggregate
from modelyard.errors import InvalidInputError
from modelyard.storage.records import RecordStore

__all__ = ["MetricId", "MetricsSink", "RecordMetricsSink", "dimension_key"]

MetricId = dict[str, Any]  # {"namespace", "metric_name", "dimensions"}


@runtime_checkable
class MetricsSink(Protocol):
    """Where metrics go and how they are read back, per period."""

    def put_metric_data(self, data: Sequence[MetricDatum]) -> None:
        """Store datums (all or nothing).

        Raises:
            InvalidInputError: an invalid datum.
            StorageError: the backend failed.
        """
        ...

    def get_metric_statistics(
        self,
        namespace: str,
        metric_name: str,
        *,
        dimensions: Mapping[str, str] | None = None,
        start: datetime,
        end: datetime,
        period_s: int,
    ) -> list[Datapoint]:
        """Per-period statistics of the exact (namespace, name, dimensions) series in
        [start, end), oldest first; periods without data are absent."""
        ...

    def list_metrics(self, namespace: str | None = None) -> list[MetricId]:
        """Every series published (optionally in one namespace)."""
        ...


def dimension_key(dimensions: Mapping[str, str] | None) -> str:
    """Canonical text of a dimension set (sorted ``name=value`` pairs)."""
    if not dimensions:
        return "-"
    return ",".join(f"{k}={dimensions[k]}" for k in sorted(dimensions))


def _ts(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordMetricsSink:
    """Local time series: one record per datum, keyed by series and time."""

    _INDEX = "metrics-index"

    def __init__(self, records: RecordStore) -> None:
        self._records = records

    @staticmethod
    def _series_pk(namespace: str, metric_name: str, dimensions: Mapping[str, str] | None) -> str:
        return f"metrics#{namespace}#{metric_name}#{dimension_key(dimensions)}"

    def put_metric_data(self, data: Sequence[MetricDatum]) -> None:
        items: list[dict[str, Any]] = []
        series: dict[tuple[str, str], dict[str, Any]] = {}
        for d in data:
            if not isinstance(d, MetricDatum):
                raise InvalidInputError(f"expected MetricDatum, got {type(d).__name__}")
            items.append(
                {
                    "pk": self._series_pk(d.namespace, d.metric_name, d.dimensions),
                    "sk": f"{_ts(d.timestamp)}#{uuid.uuid4().hex[:12]}",
                    "value": float(d.value),
                    "unit": d.unit,
                    "timestamp": d.timestamp.astimezone(UTC).isoformat(),
                }
            )
            key = (d.namespace, f"{d.metric_name}#{dimension_key(d.dimensions)}")
            series[key] = {
                "pk": f"{self._INDEX}#{d.namespace}",
                "sk": key[1],
                "namespace": d.namespace,
                "metric_name": d.metric_name,
                "dimensions": dict(d.dimensions),
            }
            series[("", f"{d.namespace}")] = {
                "pk": self._INDEX,
                "sk": d.namespace,
                "namespace": d.namespace,
            }
        if items:
            self._records.put_many([*items, *series.values()])

    def get_metric_statistics(
        self,
        namespace: str,
        metric_name: str,
        *,
        dimensions: Mapping[str, str] | None = None,
        start: datetime,
        end: datetime,
        period_s: int,
    ) -> list[Datapoint]:
        if period_s < 1:
            raise InvalidInputError(f"period must be at least 1 second, got {period_s}")
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInputError("start and end must be timezone-aware (UTC)")
        pk = self._series_pk(namespace, metric_name, dimensions)
        lo, hi = _ts(start), _ts(end)
        datums = []
        for item in self._records.query(pk, prefix=_common_prefix(lo, hi)):
            if lo <= item["sk"] < hi:
                datums.append(
                    MetricDatum(
                        namespace=namespace,
                        metric_name=metric_name,
                        value=float(item["value"]),
                        timestamp=datetime.fromisoformat(item["timestamp"]),
                        unit=item.get("unit", "None"),
                        dimensions=dict(dimensions or {}),
                    )
                )
        return aggregate(datums, period_s, start, end)

    def list_metrics(self, namespace: str | None = None) -> list[MetricId]:
        spaces = (
            [namespace]
            if namespace is not None
            else [r["namespace"] for r in self._records.query(self._INDEX)]
        )
        out: list[MetricId] = []
        for ns in spaces:
            for r in self._records.query(f"{self._INDEX}#{ns}"):
                out.append(
                    {
                        "namespace": r["namespace"],
                        "metric_name": r["metric_name"],
                        "dimensions": r["dimensions"],
                    }
                )
        return out


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]
