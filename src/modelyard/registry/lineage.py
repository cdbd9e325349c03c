"""Lineage: which run and dataset versions produced a model version, and back.

The registry writes the reverse-index records below in the same transaction that registers a
version, so lineage is never half-written::

    registry-lineage#dataset#<dataset> / <dataset_version:010d>#<model>#<version:010d>
    registry-lineage#run#<run_id>      / <model>#<version:010d>

Forward lineage (a version's run and datasets) is part of the version record itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from modelyard.errors import ModelNotFoundError, ModelVersionNotFoundError, RunNotFoundError
from modelyard.registry.model import DatasetRef, ModelVersion, VersionRef
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, RecordStore

if TYPE_CHECKING:
    from modelyard.datasets.model import ModelLink
    from modelyard.tracking.model import Run

__all__ = ["DatasetUse", "LineageService", "VersionLineage", "lineage_writes"]


class Guard(Protocol):
    def check(self, action: str, resource: str) -> None: ...


class RunSource(Protocol):
    def get_run(self, run_id: str) -> Run: ...


def _dataset_pk(dataset: str) -> str:
    return f"registry-lineage#dataset#{dataset}"


def _run_pk(run_id: str) -> str:
    return f"registry-lineage#run#{run_id}"


def lineage_writes(version: ModelVersion) -> list[Put]:
    """The reverse-index records for a new version (written with it, in one transaction)."""
    at = version.created_at.isoformat()
    writes = [
        Put(
            {
                "pk": _dataset_pk(d.name),
                "sk": f"{d.version:010d}#{version.name}#{version.version:010d}",
                "dataset": d.name,
                "dataset_version": d.version,
                "model": version.name,
                "model_version": version.version,
                "linked_at": at,
            }
        )
        for d in version.datasets
    ]
    if version.run_id is not None:
        writes.append(
            Put(
                {
                    "pk": _run_pk(version.run_id),
                    "sk": f"{version.name}#{version.version:010d}",
                    "run_id": version.run_id,
                    "model": version.name,
                    "model_version": version.version,
                    "linked_at": at,
                }
            )
        )
    return writes


@dataclass(frozen=True)
class DatasetUse:
    """Model version ``model@model_version`` was trained on ``dataset@dataset_version``."""

    dataset: str
    dataset_version: int
    model: str
    model_version: int
    linked_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "dataset_version": self.dataset_version,
            "model": self.model,
            "model_version": self.model_version,
            "linked_at": self.linked_at,
        }


@dataclass(frozen=True)
class VersionLineage:
    """Where a model version came from: its run (if any), its dataset versions and the
    feature group versions it read."""

    version: VersionRef
    run_id: str | None
    run: Run | None
    datasets: tuple[DatasetRef, ...]
    code_version: str | None
    feature_groups: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.version.name,
            "version": self.version.version,
            "run_id": self.run_id,
            "run": None if self.run is None else self.run.to_dict(),
            "datasets": [d.to_dict() for d in self.datasets],
            "code_version": self.code_version,
            "feature_groups": [dict(p) for p in self.feature_groups],
        }


class LineageService:
    """Lineage queries in both directions.

    Args:
        records: the metadata store the registry writes to.
        guard: authorizes (and audits) each query.
        runs: resolves run ids to runs (the tracking service); optional.
    """

    def __init__(self, records: RecordStore, guard: Guard, runs: RunSource | None = None) -> None:
        self._records = records
        self._guard = guard
        self._runs = runs

    def of_version(self, name: str, version: int) -> VersionLineage:
        """The run and dataset versions that produced ``name@version``.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError.
        """
        validate_name("model", name)
        self._guard.check("models.read", f"model/{name}")
        rec = self._records.find(f"model#{name}", f"v#{int(version):010d}")
        if rec is None:
            if self._records.find("models", name) is None:
                raise ModelNotFoundError(f"no model named {name!r}")
            raise ModelVersionNotFoundError(f"model {name!r} has no version {version}")
        mv = ModelVersion.from_record(rec)
        run = None
        if mv.run_id is not None and self._runs is not None:
            try:
                run = self._runs.get_run(mv.run_id)
            except RunNotFoundError:
                run = None
        return VersionLineage(
            mv.ref, mv.run_id, run, mv.datasets, mv.code_version, tuple(mv.feature_pins)
        )

    def versions_using_dataset(self, dataset: str, version: int | None = None) -> list[DatasetUse]:
        """Model versions trained on ``dataset@version`` (any version of it if None)."""
        validate_name("dataset", dataset)
        self._guard.check("models.read", f"dataset/{dataset}")
        prefix = "" if version is None else f"{int(version):010d}#"
        return [
            DatasetUse(
                r["dataset"],
                int(r["dataset_version"]),
                r["model"],
                int(r["model_version"]),
                r["linked_at"],
            )
            for r in self._records.query(_dataset_pk(dataset), prefix=prefix)
        ]

    def versions_from_run(self, run_id: str) -> list[VersionRef]:
        """Model versions registered from run ``run_id``."""
        self._guard.check("models.read", f"run/{run_id}")
        if not run_id or "#" in run_id:
            return []
        return [
            VersionRef(r["model"], int(r["model_version"]))
            for r in self._records.query(_run_pk(run_id))
        ]

    def models_trained_on(self, dataset: str, version: int) -> list[ModelLink]:
        """The dataset service's lineage source protocol (``ModelLinkSource``)."""
        from datetime import datetime

        from modelyard.datasets.model import ModelLink

        return [
            ModelLink(
                u.dataset,
                u.dataset_version,
                u.model,
                u.model_version,
                datetime.fromisoformat(u.linked_at),
            )
            for u in self.versions_using_dataset(dataset, version)
        ]
