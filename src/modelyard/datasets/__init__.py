"""Datasets: immutable content-addressed versions, validation, statistics, profiles, anomalies,
approval, comparison, lineage, and the external catalog (``modelyard.datasets.catalog``).

Python use::

    ws = modelyard.open_workspace()
    v = ws.datasets.add("diabetic_data.csv", name="diabetes", missing_tokens=["?"],
                        dtypes={"admission_type_id": "str"})
    frame = ws.datasets.load("diabetes", v.version)        # a polars DataFrame
    ws.catalog.import_("uci-diabetes-130")                  # offline, from the shipped zip
"""

from modelyard.datasets.anomalies import AnomalyOptions
from modelyard.datasets.model import (
    Anomaly,
    Approval,
    DatasetVersion,
    ModelLink,
    ReadOptions,
    parse_ref,
)
from modelyard.datasets.rules import ColumnRule, DatasetSchema, Violation
from modelyard.datasets.service import AddResult, DatasetService, ModelLinkSource

__all__ = [
    "AddResult",
    "Anomaly",
    "AnomalyOptions",
    "Approval",
    "ColumnRule",
    "DatasetSchema",
    "DatasetService",
    "DatasetVersion",
    "ModelLink",
    "ModelLinkSource",
    "ReadOptions",
    "Violation",
    "parse_ref",
]
