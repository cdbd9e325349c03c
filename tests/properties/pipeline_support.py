"""Shared set-up of the pipeline properties: a small real UCI sample and a trained workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from modelyard.pipelines.config import DataSource, TrainingConfig
from modelyard.pipelines.service import TrainingResult
from modelyard.workspace import Workspace, open_workspace
from tests.uci import uci_raw_csv

N_ROWS = 3000


def write_sample(folder: Path, n_rows: int = N_ROWS) -> Path:
    path = folder / "uci-sample.csv"
    path.write_text(uci_raw_csv(n_rows))
    return path


def new_workspace(folder: Path) -> Workspace:
    return open_workspace(
        env={"MODELYARD_HOME": str(folder / "ws"), "MODELYARD_USER": "pipeline-tester"},
        create=True,
    )


def training_config(csv: Path, **adherence: object) -> TrainingConfig:
    return TrainingConfig.model_validate(
        {
            "data": DataSource(path=str(csv), name="uci-sample").model_dump(),
            "adherence": adherence,
        }
    )


@dataclass
class Trained:
    ws: Workspace
    csv: Path
    result: TrainingResult
    frame: pl.DataFrame


def train_once(folder: Path) -> Trained:
    csv = write_sample(folder)
    ws = new_workspace(folder)
    result = ws.pipelines.run_training(training_config(csv))
    frame = pl.read_csv(csv, infer_schema=False)
    return Trained(ws, csv, result, frame)
