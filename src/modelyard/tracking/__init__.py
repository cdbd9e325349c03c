"""Experiment tracking: experiments, runs, step-wise metrics, search and comparison."""

from modelyard.tracking.model import Experiment, MetricPoint, Run, RunStatus
from modelyard.tracking.search import Query, parse_query
from modelyard.tracking.service import ActiveRun, RunComparison, TrackingService

__all__ = [
    "ActiveRun",
    "Experiment",
    "MetricPoint",
    "Query",
    "Run",
    "RunComparison",
    "RunStatus",
    "TrackingService",
    "parse_query",
]
