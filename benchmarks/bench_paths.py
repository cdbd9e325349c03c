"""Where benchmarks find the data and the peers: the shipped UCI zip, and ``../shared/peers``."""

from __future__ import annotations

import os
from pathlib import Path

import modelyard.datasets.catalog as _catalog

REPO = Path(__file__).resolve().parents[1]
# The UCI zip that ships inside the package (the same bytes as shared/data's copy).
UCI_ZIP = Path(_catalog.__file__).parent / "files" / "diabetes_130_us_hospitals.zip"
# The peer scripts (Evidently, whylogs, MLflow, Feast, ydata) live beside the repository.
PEERS = Path(os.environ.get("PEERS", REPO.parent / "shared" / "peers"))
