"""Monitoring use cases: baselines, checks (drift + quality), reports, metrics and alarms.

``ws.monitor.create_baseline(frame, model=…, version=…)`` stores the baseline of a model
version; ``ws.monitor.check(frame, model=…, version=…, batch_id=…)`` compares a batch with
it, stores the report (JSON + HTML, content-addressed), publishes the scores as metrics and
evaluates the alarms of the monitoring namespace (whose actions may notify or queue a
retraining job).

Records (pk / sk):

- ``monitor#baselines#<model>`` / ``<version>#<revision>``: one per stored baseline
  (numeric versions zero-padded so they sort); ``monitor#baseline-ids`` / ``<id>``.
- ``monitor#report-ids`` / ``<id>``; ``monitor#reports#<model>`` / ``<time>#<id>``;
  ``monitor#report-batches#<model>`` / ``<batch>#<time>#<id>``; ``monitor#reports`` /
  ``<time>#<id>``: the report index by id, model + time, model + batch, and time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import polars as pl

from modelyard.access.service import AccessGuard
from modelyard.alerts.model import MetricDatum, Transition
from modelyard.alerts.service import AlarmService, MetricsService
from modelyard.errors import (
    BaselineNotFoundError,
    ConflictError,
    InvalidInputError,
    ReportNotFoundError,
)
from modelyard.quality.columns import Kind, SummaryOptions
from modelyard.quality.drift import DriftConfig
from modelyard.quality.html import render_html
from modelyard.quality.model import Baseline, BaselineInfo, DriftReport, ReportInfo
from modelyard.quality.monitoring import build_baseline, run_check
from modelyard.storage.blobs import BlobRef, ContentStore
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, RecordStore

__all__ = ["NAMESPACE", "MonitorService"]

NAMESPACE = "modelyard/monitoring"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _vkey(version: str) -> str:
    return version.zfill(10) if version.isdigit() else version


class MonitorService:
    """Baselines, drift and quality checks, reports; metrics and alarms on every check."""

    def __init__(
        self,
        records: RecordStore,
        content: ContentStore,
        guard: AccessGuard,
        metrics: MetricsService,
        alarms: AlarmService | None = None,
        *,
        namespace: str = NAMESPACE,
        clock: Clock = _utcnow,
    ) -> None:
        self._records = records
        self._content = content
        self._guard = guard
        self._metrics = metrics
        self._alarms = alarms
        self.namespace = namespace
        self._clock = clock
        self.last_transitions: list[Transition] = []

    # -- baselines -----------------------------------------------------------------------------
    def create_baseline(
        self,
        frame: pl.DataFrame | pl.LazyFrame,
        *,
        model: str,
        version: str | int,
        kinds: Mapping[str, Kind] | None = None,
        options: SummaryOptions | None = None,
        psi_bins: int = 10,
        source: str | None = None,
    ) -> BaselineInfo:
        """Summarise the reference ``frame`` and store it as the baseline of model@version.

        A second baseline for the same version becomes a new revision (the latest is used).

        Raises:
            InvalidInputError: bad names, an empty frame, or bad ``kinds``.
        """
        model, ver = self._names(model, version)
        self._guard.check("monitor.baseline", f"model/{model}")
        baseline = build_baseline(frame, kinds=kinds, options=options, psi_bins=psi_bins)
        return self._store_baseline(baseline, model, ver, source)

    def save_baseline(
        self, baseline: Baseline, *, model: str, version: str | int, source: str | None = None
    ) -> BaselineInfo:
        """Store an already built (e.g. merged) baseline as the baseline of model@version."""
        model, ver = self._names(model, version)
        self._guard.check("monitor.baseline", f"model/{model}")
        return self._store_baseline(baseline, model, ver, source)

    def _store_baseline(
        self, baseline: Baseline, model: str, version: str, source: str | None
    ) -> BaselineInfo:
        body = json.dumps(baseline.to_dict(), separators=(",", ":"), allow_nan=False).encode()
        ref = self._content.put(body)
        for attempt in range(5):  # concurrent writers: the loser re-reads the revision
            try:
                return self._put_baseline(ref, baseline, model, version, source)
            except ConflictError:  # the revision (or id) was taken meanwhile
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _put_baseline(
        self, ref: BlobRef, baseline: Baseline, model: str, version: str, source: str | None
    ) -> BaselineInfo:
        pk = f"monitor#baselines#{model}"
        latest = list(self._records.query(pk, prefix=f"{_vkey(version)}#", reverse=True, limit=1))
        revision = int(latest[0]["revision"]) + 1 if latest else 1
        info = BaselineInfo(
            id=uuid.uuid4().hex,
            model=model,
            version=version,
            revision=revision,
            created_at=self._clock(),
            created_by=self._guard.principal.name,
            rows=baseline.rows,
            columns=len(baseline.summary.columns),
            sha256=ref.sha256,
            size_bytes=ref.size_bytes,
            source=source,
        )
        attrs = info.to_dict()
        self._records.transact(
            [
                Put({"pk": pk, "sk": f"{_vkey(version)}#{revision:06d}", **attrs}, if_absent=True),
                Put({"pk": "monitor#baseline-ids", "sk": info.id, **attrs}, if_absent=True),
            ]
        )
        return info

    def get_baseline(
        self, model: str, version: str | int | None = None
    ) -> tuple[BaselineInfo, Baseline]:
        """The latest baseline of model@version (any version if None: the highest).

        Raises:
            BaselineNotFoundError: none stored.
            ChecksumMismatchError: the stored baseline was altered.
        """
        validate_name("model", model)
        self._guard.check("monitor.read", f"model/{model}")
        info = self._find_baseline(model, None if version is None else str(version))
        data = json.loads(self._content.get(BlobRef(info.sha256, info.size_bytes)))
        return info, Baseline.from_dict(data)

    def list_baselines(self, model: str) -> list[BaselineInfo]:
        validate_name("model", model)
        self._guard.check("monitor.read", f"model/{model}")
        return [
            BaselineInfo.from_dict(r) for r in self._records.query(f"monitor#baselines#{model}")
        ]

    def _find_baseline(self, model: str, version: str | None) -> BaselineInfo:
        pk = f"monitor#baselines#{model}"
        prefix = f"{_vkey(version)}#" if version is not None else ""
        found = list(self._records.query(pk, prefix=prefix, reverse=True, limit=1))
        if not found:
            which = f"{model!r} version {version}" if version is not None else repr(model)
            raise BaselineNotFoundError(f"no baseline for model {which}")
        return BaselineInfo.from_dict(found[0])

    # -- checks --------------------------------------------------------------------------------
    def check(
        self,
        frame: pl.DataFrame | pl.LazyFrame,
        *,
        model: str,
        version: str | int | None = None,
        batch_id: str | None = None,
        config: DriftConfig | None = None,
    ) -> DriftReport:
        """Check a batch against the model version's baseline; store, publish, alarm.

        Raises:
            BaselineNotFoundError: the model version has no baseline.
            InvalidInputError: bad names.
        """
        validate_name("model", model)
        if batch_id is not None:
            validate_name("batch", batch_id)
        self._guard.check("monitor.check", f"model/{model}")
        info, baseline = self.get_baseline(model, version)
        checked = run_check(baseline, frame, config)
        now = self._clock()
        report_id = uuid.uuid4().hex
        report = replace(
            checked,
            id=report_id,
            model=model,
            model_version=info.version,
            batch_id=batch_id,
            baseline_id=info.id,
            created_at=now,
        )
        self._store_report(report, report_id, now)
        self._publish(report, now)
        self.last_transitions = (
            self._alarms.evaluate_all(namespace=self.namespace, now=now) if self._alarms else []
        )
        return report

    def _store_report(self, report: DriftReport, report_id: str, now: datetime) -> ReportInfo:
        doc = report.to_dict()
        json_ref = self._content.put(
            json.dumps(doc, indent=1, allow_nan=False, default=str).encode()
        )
        html_ref = self._content.put(render_html(doc).encode())
        info = ReportInfo(
            id=report_id,
            model=report.model or "",
            model_version=report.model_version or "",
            batch_id=report.batch_id,
            created_at=now,
            dataset_drift=report.dataset_drift,
            drift_score=report.drift_score,
            drifted_features=report.drifted_features,
            current_rows=report.current_rows,
            json_sha256=json_ref.sha256,
            json_size_bytes=json_ref.size_bytes,
            html_sha256=html_ref.sha256,
            html_size_bytes=html_ref.size_bytes,
        )
        attrs = info.to_dict()
        ts = _ts(now)
        writes = [
            Put({"pk": "monitor#report-ids", "sk": info.id, **attrs}, if_absent=True),
            Put({"pk": f"monitor#reports#{info.model}", "sk": f"{ts}#{info.id}", **attrs}),
            Put({"pk": "monitor#reports", "sk": f"{ts}#{info.id}", **attrs}),
        ]
        if info.batch_id is not None:
            writes.append(
                Put(
                    {
                        "pk": f"monitor#report-batches#{info.model}",
                        "sk": f"{info.batch_id}#{ts}#{info.id}",
                        **attrs,
                    }
                )
            )
        self._records.transact(writes)
        return info

    def _publish(self, report: DriftReport, now: datetime) -> None:
        dims = {"model": report.model or "", "version": report.model_version or ""}
        q = report.quality
        values: list[tuple[str, float, str]] = [
            ("DriftScore", report.drift_score, "None"),
            ("DatasetDrift", 1.0 if report.dataset_drift else 0.0, "None"),
            ("DriftedFeatures", float(len(report.drifted_features)), "Count"),
            ("Completeness", q.completeness, "None"),
            ("TypeValidity", q.type_validity, "None"),
            ("RangeViolationRate", q.range_violation_rate, "None"),
            ("UnseenCategoryShare", q.unseen_share, "None"),
            ("RowCount", float(report.current_rows), "Count"),
        ]
        data = [
            MetricDatum(self.namespace, name, value, now, unit, dims)
            for name, value, unit in values
        ]
        for f in report.features:
            if f.tested and f.score is not None:
                data.append(
                    MetricDatum(
                        self.namespace,
                        "FeatureDriftScore",
                        f.score,
                        now,
                        "None",
                        {**dims, "feature": f.column},
                    )
                )
        self._metrics.publish(data)

    # -- reports -------------------------------------------------------------------------------
    def list_reports(
        self,
        *,
        model: str | None = None,
        batch_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> list[ReportInfo]:
        """Reports newest first, by model, batch (needs model) and time range [since, until).

        Raises:
            InvalidInputError: ``batch_id`` without ``model``, or bad names.
        """
        if model is not None:
            validate_name("model", model)
        self._guard.check("monitor.read", f"model/{model or '*'}")
        if batch_id is not None:
            if model is None:
                raise InvalidInputError(
                    "listing reports by batch needs the model too", hint="pass --model NAME"
                )
            validate_name("batch", batch_id)
            items = self._records.query(
                f"monitor#report-batches#{model}", prefix=f"{batch_id}#", reverse=True
            )
        elif model is not None:
            items = self._records.query(f"monitor#reports#{model}", reverse=True)
        else:
            items = self._records.query("monitor#reports", reverse=True)
        out: list[ReportInfo] = []
        for item in items:
            info = ReportInfo.from_dict(item)
            if since is not None and info.created_at < since:
                continue
            if until is not None and info.created_at >= until:
                continue
            out.append(info)
            if limit is not None and len(out) >= limit:
                break
        return out

    def report_info(self, report_id: str) -> ReportInfo:
        """Raises: ReportNotFoundError."""
        self._guard.check("monitor.read", f"report/{report_id}")
        item = self._records.find("monitor#report-ids", report_id) if report_id else None
        if item is None:
            raise ReportNotFoundError(f"no monitoring report with id {report_id!r}")
        return ReportInfo.from_dict(item)

    def get_report(self, report_id: str) -> DriftReport:
        """The stored report (checksum verified). Raises: ReportNotFoundError."""
        info = self.report_info(report_id)
        data = json.loads(self._content.get(BlobRef(info.json_sha256, info.json_size_bytes)))
        return DriftReport.from_dict(data)

    def get_report_html(self, report_id: str) -> str:
        """The stored HTML page (checksum verified). Raises: ReportNotFoundError."""
        info = self.report_info(report_id)
        return self._content.get(BlobRef(info.html_sha256, info.html_size_bytes)).decode()

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _names(model: str, version: str | int) -> tuple[str, str]:
        validate_name("model", model)
        ver = str(version)
        validate_name("version", ver)
        return model, ver

    def to_dict(self) -> dict[str, Any]:
        return {"namespace": self.namespace}
