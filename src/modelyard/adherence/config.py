"""Configuration of the adherence use case: label, exclusions, model, split, threshold.

The label is configuration, not code: the default is 30-day readmission
(``readmitted in ["<30"]``), the proxy for post-discharge non-adherence risk; a site with
pharmacy refill data points the label at its own column, e.g. a proportion of days covered::

    label:
      column: pdc
      rule: lt
      value: 0.8          # non-adherent when PDC < 0.8

Everything loads from YAML with :meth:`AdherenceConfig.from_yaml` and refuses unknown keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from modelyard.adherence.schema import EXCLUDED_DISCHARGE_IDS, LABEL_COLUMN, MISSING
from modelyard.errors import InvalidInputError, describe_problems

__all__ = [
    "AdherenceConfig",
    "CalibrationConfig",
    "FeatureConfig",
    "LabelConfig",
    "LightGBMParams",
    "LogisticParams",
    "ModelConfig",
    "SplitConfig",
    "ThresholdConfig",
    "label_series",
]

_NUMERIC_RULES = ("lt", "le", "gt", "ge")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelConfig(_Strict):
    """Which column defines the positive (at-risk) class, and how.

    ``rule`` ``in`` / ``not_in`` compare the column's text with ``values``; ``lt``, ``le``,
    ``gt``, ``ge`` compare its number with ``value`` (positive when the comparison holds).
    """

    column: str = LABEL_COLUMN
    rule: Literal["in", "not_in", "lt", "le", "gt", "ge"] = "in"
    values: tuple[str, ...] = ("<30",)
    value: float | None = None
    description: str = "30-day readmission (readmitted == '<30'), proxy for non-adherence risk"

    @model_validator(mode="after")
    def _rule_has_operand(self) -> LabelConfig:
        if self.rule in _NUMERIC_RULES and self.value is None:
            raise ValueError(f"label rule {self.rule!r} needs a numeric 'value'")
        if self.rule in ("in", "not_in") and not self.values:
            raise ValueError(f"label rule {self.rule!r} needs a non-empty 'values' list")
        return self


class LightGBMParams(_Strict):
    """LightGBM hyperparameters; ``max_rounds`` is a ceiling, early stopping picks the count.

    The defaults keep trees shallow (depth 3) and few (≤ 70, learning rate 0.3) on purpose:
    per-row risk factors come from TreeSHAP, whose cost grows with trees x leaves x depth².
    On 3 patient-level seeds, 143 trees at rate 0.2 gave AUC 0.6841 and 69 trees at 0.3 gave
    0.6831 (the spread over seeds is 0.004) at half the TreeSHAP time; deeper or longer models
    gain ~0.002 AUC here and cost several times the inference time.
    """

    learning_rate: float = Field(default=0.3, gt=0, le=1)
    num_leaves: int = Field(default=8, ge=2, le=1024)
    max_depth: int = 3
    min_child_samples: int = Field(default=100, ge=1)
    feature_fraction: float = Field(default=0.7, gt=0, le=1)
    bagging_fraction: float = Field(default=0.8, gt=0, le=1)
    bagging_freq: int = Field(default=1, ge=0)
    lambda_l2: float = Field(default=10.0, ge=0)
    cat_smooth: float = Field(default=50.0, ge=0)
    cat_l2: float = Field(default=10.0, ge=0)
    min_data_per_group: int = Field(default=100, ge=1)
    max_rounds: int = Field(default=70, ge=1)
    early_stopping_rounds: int = Field(default=50, ge=1)
    num_threads: int = Field(default=2, ge=0)


class LogisticParams(_Strict):
    """Logistic-regression baseline: L2 penalty strength ``c`` (scikit-learn's ``C``)."""

    c: float = Field(default=0.1, gt=0)
    max_iter: int = Field(default=300, ge=10)


class ModelConfig(_Strict):
    type: Literal["lightgbm", "logistic"] = "lightgbm"
    lightgbm: LightGBMParams = LightGBMParams()
    logistic: LogisticParams = LogisticParams()


class SplitConfig(_Strict):
    """Patient-level splits: no patient_nbr ever appears on both sides.

    ``test_fraction`` is held out by :func:`modelyard.adherence.evaluation.evaluate`;
    ``validation_fraction`` of the training patients is the slice used for early stopping,
    calibration and the threshold.
    """

    seed: int = 0
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)


class ThresholdConfig(_Strict):
    """How the decision threshold is chosen on the validation slice.

    - ``max_recall_at_precision`` (default): the threshold with the highest recall among those
      whose precision is at least ``precision``; if none reaches it, the F1-best threshold
      (recorded as ``threshold_rule_met = false``).
    - ``recall_target``: the highest threshold whose recall is at least ``recall``.
    - ``fixed``: ``value``.
    """

    rule: Literal["max_recall_at_precision", "recall_target", "fixed"] = "max_recall_at_precision"
    precision: float = Field(default=0.30, gt=0, le=1)
    recall: float = Field(default=0.5, gt=0, le=1)
    value: float = Field(default=0.5, ge=0, le=1)


class CalibrationConfig(_Strict):
    """``platt`` (logistic on the raw score; keeps the ranking) or ``isotonic``."""

    method: Literal["platt", "isotonic"] = "platt"


class FeatureConfig(_Strict):
    """Feature engineering knobs.

    ``min_category_count``: levels of a categorical column seen fewer times in training are
    grouped into ``__other__``. ``use_prior_outcomes``: include the patient's earlier
    readmissions (30-day and any; known by the time of the encounter, see
    :mod:`modelyard.adherence.history`) whatever the label. ``history``: where the patient
    history comes from: ``batch`` computes it from the earlier encounters of the same patient
    in the data given; ``feature_store`` (default) has the pipelines publish the training
    data's history to the ``adherence_patient_history`` feature group and read it back from
    there (point in time for training, online for prediction). The library functions
    (``train``, ``predict``) take a ``history`` frame; without one they compute the same
    definition from the data given.
    """

    min_category_count: int = Field(default=30, ge=1)
    use_prior_outcomes: bool = True
    history: Literal["batch", "feature_store"] = "feature_store"


class AdherenceConfig(_Strict):
    """Everything that defines one adherence model."""

    label: LabelConfig = LabelConfig()
    excluded_discharge_ids: tuple[int, ...] = EXCLUDED_DISCHARGE_IDS
    model: ModelConfig = ModelConfig()
    split: SplitConfig = SplitConfig()
    threshold: ThresholdConfig = ThresholdConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    features: FeatureConfig = FeatureConfig()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AdherenceConfig:
        """Build from a plain mapping (e.g. parsed YAML).

        Raises:
            InvalidInputError: unknown keys or invalid values; the message lists them.
        """
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            raise InvalidInputError(
                f"invalid adherence config: {describe_problems(exc.errors())}",
                hint="see docs/adherence.md for the keys and their allowed values",
            ) from None

    @classmethod
    def from_yaml(cls, source: str | Path) -> AdherenceConfig:
        """Load from a YAML file path or a YAML string.

        Raises:
            InvalidInputError: unreadable file, malformed YAML, or an invalid config.
        """
        text: str
        if isinstance(source, Path) or ("\n" not in source and source.endswith((".yaml", ".yml"))):
            path = Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInputError(
                    f"cannot read adherence config {str(path)!r}: {exc.strerror}",
                    hint="check the path",
                ) from None
        else:
            text = str(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInputError(
                f"adherence config is not valid YAML: {exc}", hint="fix the YAML syntax"
            ) from None
        if data is not None and not isinstance(data, dict):
            raise InvalidInputError(
                f"adherence config must be a mapping, found {type(data).__name__}",
                hint="write keys such as 'label:' and 'model:' at the top level",
            )
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def label_series(frame: pl.DataFrame, label: LabelConfig) -> pl.Series:
    """The 0/1 label of every row of ``frame`` under ``label``.

    Raises:
        InvalidInputError: the column is absent, has missing values, or is not numeric for
            a numeric rule.
    """
    if label.column not in frame.columns:
        raise InvalidInputError(
            f"label column {label.column!r} is not in the data "
            f"(columns: {', '.join(frame.columns[:12])}{', …' if frame.width > 12 else ''})",
            hint="add the column to the data, or point 'label.column' at a column it has",
        )
    col = frame.get_column(label.column)
    if col.dtype == pl.String:
        col = col.replace(MISSING, None)
    n_missing = col.null_count()
    if n_missing:
        raise InvalidInputError(
            f"label column {label.column!r} has {n_missing} missing value(s)",
            hint="drop the unlabelled rows before training",
        )
    if label.rule in ("in", "not_in"):
        hit = col.cast(pl.String).is_in(list(label.values))
        out = hit if label.rule == "in" else ~hit
    else:
        numeric = col.cast(pl.Float64, strict=False)
        if numeric.null_count():
            bad = col.filter(numeric.is_null()).head(1).to_list()
            raise InvalidInputError(
                f"label column {label.column!r} must be numeric for rule {label.rule!r}, "
                f"found {bad[0]!r}",
                hint="use rule 'in' for text labels, or fix the column",
            )
        value = float(label.value if label.value is not None else 0.0)
        ops = {
            "lt": numeric < value,
            "le": numeric <= value,
            "gt": numeric > value,
            "ge": numeric >= value,
        }
        out = ops[label.rule]
    return out.cast(pl.Int8).alias("label")
