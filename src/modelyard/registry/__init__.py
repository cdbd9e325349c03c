"""Model registry: versions, immutable checksummed artifacts, approvals, comparison, lineage."""

from modelyard.registry.comparison import MetricDelta, ParamDelta, VersionComparison
from modelyard.registry.lineage import DatasetUse, LineageService, VersionLineage
from modelyard.registry.model import (
    Approval,
    ArtifactInfo,
    DatasetRef,
    HistoryEntry,
    Model,
    ModelVersion,
    VersionRef,
    VersionStatus,
)
from modelyard.registry.service import RegistryService

__all__ = [
    "Approval",
    "ArtifactInfo",
    "DatasetRef",
    "DatasetUse",
    "HistoryEntry",
    "LineageService",
    "MetricDelta",
    "Model",
    "ModelVersion",
    "ParamDelta",
    "RegistryService",
    "VersionComparison",
    "VersionLineage",
    "VersionRef",
    "VersionStatus",
]
