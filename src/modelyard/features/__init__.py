"""Feature store: feature groups, versions, offline point-in-time retrieval, online serving."""

from modelyard.features.model import (
    Feature,
    FeatureGroupSpec,
    FeatureGroupVersion,
    FeaturePin,
    FeatureType,
    Ingestion,
    Materialization,
    PlanItem,
    parse_specs,
)
from modelyard.features.online import OnlineItem, OnlineStore
from modelyard.features.service import FeatureService, OnlineReader

__all__ = [
    "Feature",
    "FeatureGroupSpec",
    "FeatureGroupVersion",
    "FeaturePin",
    "FeatureService",
    "FeatureType",
    "Ingestion",
    "Materialization",
    "OnlineItem",
    "OnlineReader",
    "OnlineStore",
    "PlanItem",
    "parse_specs",
]
