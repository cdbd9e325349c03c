"""Pipeline configuration: parameters in YAML, pipelines in code.

A training config::

    kind: training
    model_name: adherence
    experiment: adherence
    data: {dataset: uci-diabetes@latest}      # or {path: data.csv, name: uci-diabetes}
    adherence:                                 # the use case's own config (label, model,
      model: {type: lightgbm}                  # split.test_fraction: the patient-grouped
      split: {seed: 0, test_fraction: 0.2}     # hold-out, touched once)

An inference config::

    kind: inference
    model: adherence@approved                  # NAME@V, NAME@latest or NAME@approved
    data: {path: batch.csv}
    batch_id: 2008-q4
    level: brand                               # or encounter
    drift: {drift_share: 0.3}
    alarm_threshold: 0.3                       # optional: alarm on this model's DriftScore
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from modelyard.adherence.config import AdherenceConfig
from modelyard.errors import InvalidInputError, describe_problems

__all__ = ["DataSource", "InferenceConfig", "TrainingConfig", "load_config"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSource(_Strict):
    """Where a pipeline's data comes from: a stored dataset version, or a file."""

    dataset: str | None = None  # NAME, NAME@V, NAME@latest or NAME@approved
    path: str | None = None  # a CSV / CSV.gz / zip / Parquet file
    name: str | None = None  # store the file as a version of this dataset (lineage)
    missing_tokens: list[str] = Field(default_factory=lambda: ["?"])
    keep_values: list[str] = Field(default_factory=lambda: ["None"])

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        if (self.dataset is None) == (self.path is None):
            raise ValueError("give exactly one of 'dataset' or 'path'")
        return self


class TrainingConfig(_Strict):
    """Parameters of the training pipeline."""

    kind: Literal["training"] = "training"
    model_name: str = "adherence"
    experiment: str = "adherence"
    data: DataSource
    production: bool = False
    adherence: AdherenceConfig = Field(default_factory=AdherenceConfig)


class DriftSettings(_Strict):
    """The subset of drift settings a pipeline config may set."""

    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)


class InferenceConfig(_Strict):
    """Parameters of the inference pipeline."""

    kind: Literal["inference"] = "inference"
    model: str
    data: DataSource
    batch_id: str | None = None
    level: Literal["brand", "encounter"] = "brand"
    risk_factors: bool = True
    drift: DriftSettings = DriftSettings()
    alarm_threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    output: str | None = None  # also write the predictions to this file


def load_config(source: str | Path | dict[str, Any]) -> TrainingConfig | InferenceConfig:
    """Read a pipeline config (a YAML file or a dict); ``kind`` picks the pipeline.

    Raises:
        InvalidInputError: unreadable YAML, unknown kind, or invalid parameters (each named).
    """
    if isinstance(source, dict):
        data: Any = source
        where = "config"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise InvalidInputError(
                f"config file {where!r} does not exist", hint="pass a YAML file with --config"
            )
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"config file {where!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: a pipeline config is a mapping with a 'kind' key")
    kind = data.get("kind")
    model: type[TrainingConfig] | type[InferenceConfig]
    if kind == "training":
        model = TrainingConfig
    elif kind == "inference":
        model = InferenceConfig
    else:
        raise InvalidInputError(
            f"{where}: unknown pipeline kind {kind!r}", hint="set kind: training or kind: inference"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = describe_problems(exc.errors(), root="config")
        raise InvalidInputError(
            f"{where}: invalid {kind} config: {problems}",
            hint="see docs/pipelines.md for the parameters",
        ) from exc
