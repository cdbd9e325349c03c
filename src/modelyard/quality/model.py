"""Monitoring entities: baselines and drift reports (JSON-able, no raw rows)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelyard.errors import InvalidInputError
from modelyard.quality.checks import ColumnQuality, QualityReport
from modelyard.quality.columns import FrameSummary, Kind, merge_summaries
from modelyard.quality.drift import DatasetDrift, DriftConfig, FeatureDrift, psi_edges

__all__ = ["Baseline", "BaselineInfo", "DriftReport", "ReportInfo"]

BASELINE_FORMAT = "modelyard.baseline/1"
REPORT_FORMAT = "modelyard.drift-report/1"


@dataclass(frozen=True, eq=False)
class Baseline:
    """What drift and quality checks compare against: the reference's column summary.

    The summary carries per-column type, counts, missing rate, moments, the (exact or
    compressed) numeric distribution that KS/Wasserstein need, and category frequencies.
    ``psi_edges`` are the reference-quantile bin edges of every numeric column. Baselines of
    partitions merge into the baseline of the whole (``merge``).
    """

    summary: FrameSummary
    psi_bins: int = 10

    @property
    def kinds(self) -> dict[str, Kind]:
        return {name: col.kind for name, col in self.summary.columns.items()}

    @property
    def rows(self) -> int:
        return self.summary.rows

    def psi_edges(self) -> dict[str, list[float]]:
        return {
            name: psi_edges(col.numeric.distribution, self.psi_bins)
            for name, col in self.summary.columns.items()
            if col.numeric is not None and col.numeric.count
        }

    def merge(self, other: Baseline) -> Baseline:
        """The baseline of both references together (bin edges recomputed from the merge).

        Raises:
            InvalidInputError: different columns, kinds or options.
        """
        return Baseline(merge_summaries([self.summary, other.summary]), self.psi_bins)

    @classmethod
    def merge_all(cls, parts: Iterable[Baseline]) -> Baseline:
        items = list(parts)
        if not items:
            raise InvalidInputError("merging baselines needs at least one baseline")
        return Baseline(merge_summaries(p.summary for p in items), items[0].psi_bins)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": BASELINE_FORMAT,
            "rows": self.rows,
            "psi_bins": self.psi_bins,
            "psi_edges": self.psi_edges(),
            "summary": self.summary.to_dict(include_state=True),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        """Raises: InvalidInputError: not a baseline document."""
        if not isinstance(data, Mapping) or data.get("format") != BASELINE_FORMAT:
            raise InvalidInputError(
                "not a modelyard baseline document",
                hint="create one with `modelyard monitor baseline`",
            )
        return cls(FrameSummary.from_dict(data["summary"]), int(data.get("psi_bins", 10)))


@dataclass(frozen=True)
class BaselineInfo:
    """Where a stored baseline is and what it covers."""

    id: str
    model: str
    version: str
    revision: int
    created_at: datetime
    created_by: str
    rows: int
    columns: int
    sha256: str
    size_bytes: int
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "rows": self.rows,
            "columns": self.columns,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaselineInfo:
        return cls(
            id=data["id"],
            model=data["model"],
            version=data["version"],
            revision=int(data["revision"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=data["created_by"],
            rows=int(data["rows"]),
            columns=int(data["columns"]),
            sha256=data["sha256"],
            size_bytes=int(data["size_bytes"]),
            source=data.get("source"),
        )


@dataclass(frozen=True)
class DriftReport:
    """The outcome of one check: every score, threshold and verdict; statistics only.

    ``charts`` holds, per tested feature, the reference and current distributions as binned
    shares (drifted features first) for the HTML page.
    """

    features: tuple[FeatureDrift, ...]
    dataset: DatasetDrift
    quality: QualityReport
    config: DriftConfig
    reference_rows: int
    current_rows: int
    missing_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    not_tested: tuple[Mapping[str, str], ...] = ()
    charts: tuple[Mapping[str, Any], ...] = ()
    id: str | None = None
    model: str | None = None
    model_version: str | None = None
    batch_id: str | None = None
    baseline_id: str | None = None
    created_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def dataset_drift(self) -> bool:
        return self.dataset.dataset_drift

    @property
    def drift_score(self) -> float:
        return self.dataset.drift_score

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return self.dataset.drifted_features

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "id": self.id,
            "model": self.model,
            "model_version": self.model_version,
            "batch_id": self.batch_id,
            "baseline_id": self.baseline_id,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "dataset_drift": self.dataset.dataset_drift,
            "drift_score": self.dataset.drift_score,
            "drifted_features": list(self.dataset.drifted_features),
            "tested_features": self.dataset.tested_features,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "not_tested": [dict(n) for n in self.not_tested],
            "notes": list(self.notes),
            "thresholds": self.config.to_dict(),
            "features": [f.to_dict() for f in self.features],
            "quality": self.quality.to_dict(),
            "charts": [dict(c) for c in self.charts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """Raises: InvalidInputError: not a drift report document."""
        if not isinstance(data, Mapping) or data.get("format") != REPORT_FORMAT:
            raise InvalidInputError("not a modelyard drift report document")
        q = data["quality"]
        quality = QualityReport(
            rows_ref=q["rows_ref"],
            rows_cur=q["rows_cur"],
            row_count_ratio=q["row_count_ratio"],
            completeness=q["completeness"],
            type_validity=q["type_validity"],
            range_violation_rate=q["range_violation_rate"],
            unseen_share=q["unseen_share"],
            missing_columns=tuple(q["missing_columns"]),
            extra_columns=tuple(q["extra_columns"]),
            columns=tuple(ColumnQuality(**c) for c in q["columns"]),
        )
        return cls(
            features=tuple(FeatureDrift.from_dict(f) for f in data["features"]),
            dataset=DatasetDrift(
                drift_score=data["drift_score"],
                dataset_drift=data["dataset_drift"],
                drifted_features=tuple(data["drifted_features"]),
                tested_features=data["tested_features"],
                drift_share=data["thresholds"]["drift_share"],
            ),
            quality=quality,
            config=DriftConfig.from_dict(data["thresholds"]),
            reference_rows=data["reference_rows"],
            current_rows=data["current_rows"],
            missing_columns=tuple(data["missing_columns"]),
            extra_columns=tuple(data["extra_columns"]),
            not_tested=tuple(data["not_tested"]),
            charts=tuple(data["charts"]),
            id=data.get("id"),
            model=data.get("model"),
            model_version=data.get("model_version"),
            batch_id=data.get("batch_id"),
            baseline_id=data.get("baseline_id"),
            created_at=(
                datetime.fromisoformat(data["created_at"]) if data.get("created_at") else None
            ),
            notes=tuple(data.get("notes", ())),
        )


@dataclass(frozen=True)
class ReportInfo:
    """The index entry of a stored report."""

    id: str
    model: str
    model_version: str
    batch_id: str | None
    created_at: datetime
    dataset_drift: bool
    drift_score: float
    drifted_features: tuple[str, ...]
    current_rows: int
    json_sha256: str
    json_size_bytes: int
    html_sha256: str
    html_size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model,
            "model_version": self.model_version,
            "batch_id": self.batch_id,
            "created_at": self.created_at.isoformat(),
            "dataset_drift": self.dataset_drift,
            "drift_score": self.drift_score,
            "drifted_features": list(self.drifted_features),
            "current_rows": self.current_rows,
            "json_sha256": self.json_sha256,
            "json_size_bytes": self.json_size_bytes,
            "html_sha256": self.html_sha256,
            "html_size_bytes": self.html_size_bytes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportInfo:
        return cls(
            id=data["id"],
            model=data["model"],
            model_version=data["model_version"],
            batch_id=data.get("batch_id"),
            created_at=datetime.fromisoformat(data["created_at"]),
            dataset_drift=bool(data["dataset_drift"]),
            drift_score=float(data["drift_score"]),
            drifted_features=tuple(data["drifted_features"]),
            current_rows=int(data["current_rows"]),
            json_sha256=data["json_sha256"],
            json_size_bytes=int(data["json_size_bytes"]),
            html_sha256=data["html_sha256"],
            html_size_bytes=int(data["html_size_bytes"]),
        )
