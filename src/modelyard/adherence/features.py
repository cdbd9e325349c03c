"""Feature engineering for the adherence model (Polars, vectorised).

Two levels:

- encounter features, one row per encounter: demographics, admission/discharge/source
  descriptions (through ``IDS_mapping.csv``), ICD-9 diagnosis groups, visit counts, lab
  results (``None`` = "not measured" is a category of its own, ``?`` = missing is another),
  the medication profile, and the patient's history **before** the encounter (see
  :mod:`modelyard.adherence.history`: from the earlier ``encounter_id`` of the same
  ``patient_nbr`` in the frame, or read from the feature store with the same definition;
  never the encounter's own label);
- brand rows, one row per (encounter, brand taken), carrying the encounter features plus the
  brand, its drug class(es), its dose change and the number of concurrent brands. An encounter
  with no diabetes medication gets one row with an empty brand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import polars as pl

from modelyard.adherence.config import AdherenceConfig, label_series
from modelyard.adherence.history import (
    MODEL_HISTORY,
    OUTCOME_FEATURES,
    batch_history,
    check_history,
    model_history,
)
from modelyard.adherence.schema import (
    BRAND_CLASSES,
    COUNT_COLUMNS,
    MEDICATION_COLUMNS,
    MISSING,
)

__all__ = [
    "CATEGORICAL_FEATURES",
    "NUMERIC_FEATURES",
    "FeatureFrame",
    "build_features",
    "diagnosis_group",
    "ids_mapping",
]

NO_BRAND = ""
"""The brand of the single row of an encounter without diabetes medication."""

_UNKNOWN_DESCRIPTIONS = {"NULL", "Not Mapped", "Not Available", "Unknown/Invalid"}

BASE_NUMERIC = (
    *COUNT_COLUMNS,
    "age_years",
    "total_visits",
    "n_dose_up",
    "n_dose_down",
)
HISTORY_NUMERIC = MODEL_HISTORY
OUTCOME_HISTORY_NUMERIC = OUTCOME_FEATURES
BRAND_NUMERIC = ("n_concurrent_brands",)

ENCOUNTER_CATEGORICAL = (
    "race",
    "gender",
    "weight",
    "payer_code",
    "medical_specialty",
    "admission_type",
    "discharge_disposition",
    "admission_source",
    "diag_1_group",
    "diag_2_group",
    "diag_3_group",
    "max_glu_serum",
    "A1Cresult",
    "change",
    "diabetesMed",
    *MEDICATION_COLUMNS,
)
BRAND_CATEGORICAL = ("brand", "brand_class", "brand_class_2", "brand_dose")

NUMERIC_FEATURES = (*BASE_NUMERIC, *HISTORY_NUMERIC, *OUTCOME_HISTORY_NUMERIC, *BRAND_NUMERIC)
"""Every numeric feature the model may use (outcome history only if configured)."""
CATEGORICAL_FEATURES = (*ENCOUNTER_CATEGORICAL, *BRAND_CATEGORICAL)
"""Every categorical feature; values are text, levels are learned at training."""


@dataclass(frozen=True)
class FeatureFrame:
    """Features at both levels, ready for a model.

    Attributes:
        encounters: one row per encounter, in input order: ``encounter_id``, ``patient_nbr``,
            ``n_brands``, the encounter feature columns, and ``label`` when the data carried
            the label column.
        brands: one row per (encounter, brand), ordered by encounter then brand: ``_enc``
            (the encounter's row in ``encounters``), ``brand`` (empty for an encounter without
            diabetes medication), ``brand_class``, ``brand_class_2``, ``brand_dose``,
            ``n_concurrent_brands``.
        numeric: names of the numeric features (encounter ones first, then brand ones).
        categorical: names of the categorical features (encounter ones first).
    """

    encounters: pl.DataFrame
    brands: pl.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def has_label(self) -> bool:
        return "label" in self.encounters.columns

    @property
    def brand_index(self) -> np.ndarray:
        """For each brand row, its encounter's row number in ``encounters``."""
        return self.brands.get_column("_enc").to_numpy()

    def subset(self, keep: np.ndarray) -> FeatureFrame:
        """Only the encounters where the boolean mask ``keep`` is true (and their brands)."""
        keep = np.asarray(keep, dtype=bool)
        new_pos = np.cumsum(keep) - 1
        enc_idx = self.brand_index
        row_keep = keep[enc_idx]
        brands = self.brands.filter(pl.Series(row_keep)).with_columns(
            pl.Series("_enc", new_pos[enc_idx[row_keep]].astype(np.uint32))
        )
        return FeatureFrame(
            encounters=self.encounters.filter(pl.Series(keep)),
            brands=brands,
            numeric=self.numeric,
            categorical=self.categorical,
        )

    @property
    def rows(self) -> pl.DataFrame:
        """The brand rows joined with their encounter features (one frame, for inspection)."""
        keep = [c for c in self.encounters.columns if c not in ("n_brands",)]
        enc = self.encounters.select(keep).select(pl.all().gather(self.brands["_enc"]))
        return pl.concat([enc, self.brands.drop("_enc")], how="horizontal")


@cache
def ids_mapping() -> dict[str, dict[int, str]]:
    """``IDS_mapping.csv`` (shipped with the package) as {id column: {id: description}}."""
    text = (
        resources.files("modelyard.adherence")
        .joinpath("resources/ids_mapping.csv")
        .read_text(encoding="utf-8")
    )
    out: dict[str, dict[int, str]] = {}
    current: dict[int, str] | None = None
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(cell.strip() for cell in row):
            current = None
            continue
        key, description = row[0].strip(), ",".join(row[1:]).strip()
        if current is None:
            current = out.setdefault(key, {})
            continue
        current[int(key)] = "Unknown" if description in _UNKNOWN_DESCRIPTIONS else description
    return out


def diagnosis_group(code: pl.Expr) -> pl.Expr:
    """ICD-9 code (text) → diagnosis group, the grouping of Strack et al. (2014)."""
    num = code.cast(pl.Float64, strict=False)
    whole = num.floor()

    def between(lo: float, hi: float) -> pl.Expr:
        return (num >= lo) & (num < hi)

    return (
        pl.when(code.is_null() | (code == MISSING))
        .then(pl.lit("missing"))
        .when(code.str.starts_with("V"))
        .then(pl.lit("supplementary_v"))
        .when(code.str.starts_with("E"))
        .then(pl.lit("external_e"))
        .when(whole == 250)
        .then(pl.lit("diabetes"))
        .when(between(390, 460) | (whole == 785))
        .then(pl.lit("circulatory"))
        .when(between(460, 520) | (whole == 786))
        .then(pl.lit("respiratory"))
        .when(between(520, 580) | (whole == 787))
        .then(pl.lit("digestive"))
        .when(between(800, 1000))
        .then(pl.lit("injury"))
        .when(between(710, 740))
        .then(pl.lit("musculoskeletal"))
        .when(between(580, 630) | (whole == 788))
        .then(pl.lit("genitourinary"))
        .when(between(140, 240))
        .then(pl.lit("neoplasms"))
        .otherwise(pl.lit("other"))
    )


def _id_description(column: str, mapping_key: str, alias: str) -> pl.Expr:
    mapping = ids_mapping()[mapping_key]
    keys = list(mapping)
    return (
        pl.col(column)
        .replace_strict(keys, [mapping[k] for k in keys], default=None, return_dtype=pl.String)
        .fill_null(pl.format("unmapped:{}", pl.col(column).cast(pl.String).fill_null(MISSING)))
        .alias(alias)
    )


def _encounter_features(
    frame: pl.DataFrame, config: AdherenceConfig, history: pl.DataFrame | None
) -> pl.DataFrame:
    taken = [(pl.col(m) != "No") & (pl.col(m) != MISSING) for m in MEDICATION_COLUMNS]
    out = frame.with_columns(
        _id_description("admission_type_id", "admission_type_id", "admission_type"),
        _id_description(
            "discharge_disposition_id", "discharge_disposition_id", "discharge_disposition"
        ),
        _id_description("admission_source_id", "admission_source_id", "admission_source"),
        *(diagnosis_group(pl.col(d)).alias(f"{d}_group") for d in ("diag_1", "diag_2", "diag_3")),
        # "[70-80)" -> 75
        (pl.col("age").str.extract(r"^\[(\d+)-", 1).cast(pl.Float64, strict=False) + 5.0).alias(
            "age_years"
        ),
        (pl.col("number_outpatient") + pl.col("number_emergency") + pl.col("number_inpatient"))
        .cast(pl.Float64)
        .alias("total_visits"),
        pl.sum_horizontal([t.cast(pl.Int32) for t in taken]).alias("n_brands"),
        pl.sum_horizontal([(pl.col(m) == "Up").cast(pl.Int32) for m in MEDICATION_COLUMNS]).alias(
            "n_dose_up"
        ),
        pl.sum_horizontal([(pl.col(m) == "Down").cast(pl.Int32) for m in MEDICATION_COLUMNS]).alias(
            "n_dose_down"
        ),
    )
    history = batch_history(frame) if history is None else check_history(history, frame.height)
    return pl.concat(
        [out, model_history(history, outcomes=config.features.use_prior_outcomes)],
        how="horizontal",
    )


_BRANDS = pl.Series("brand", [NO_BRAND, *MEDICATION_COLUMNS])
_CLASS_1 = pl.Series("brand_class", [NO_BRAND, *(BRAND_CLASSES[m][0] for m in MEDICATION_COLUMNS)])
_CLASS_2 = pl.Series(
    "brand_class_2",
    [NO_BRAND, *(c[1] if len(c) > 1 else NO_BRAND for c in BRAND_CLASSES.values())],
)
_DOSES = pl.Series("brand_dose", [NO_BRAND, "Steady", "Up", "Down"])


def _brand_rows(enc: pl.DataFrame) -> pl.DataFrame:
    """One row per (encounter, brand taken); an encounter on no brand gets one empty row."""
    dose = (
        enc.select(
            pl.col(m).replace_strict(
                {"Steady": 1, "Up": 2, "Down": 3}, default=0, return_dtype=pl.Int8
            )
            for m in MEDICATION_COLUMNS
        )
        .to_numpy()
        .reshape(enc.height, len(MEDICATION_COLUMNS))
    )
    taken = dose > 0
    n_taken = taken.sum(axis=1)
    # Column 0 stands for "no brand": row-major nonzero() yields (encounter, brand) in order.
    mask = np.concatenate([(n_taken == 0)[:, None], taken], axis=1)
    rows, cols = np.nonzero(mask)
    brand_dose = np.where(cols > 0, dose[rows, np.maximum(cols - 1, 0)], 0)
    idx = pl.Series("_enc", rows.astype(np.uint32))
    col_idx = pl.Series(cols.astype(np.uint32))
    return pl.DataFrame(
        [
            idx,
            _BRANDS.gather(col_idx),
            _CLASS_1.gather(col_idx),
            _CLASS_2.gather(col_idx),
            _DOSES.gather(pl.Series(brand_dose.astype(np.uint32))),
            pl.Series("n_concurrent_brands", n_taken[rows].astype(np.float64)),
        ]
    )


def build_features(
    frame: pl.DataFrame,
    config: AdherenceConfig | None = None,
    *,
    with_label: bool = True,
    history: pl.DataFrame | None = None,
) -> FeatureFrame:
    """Encounter features and their expansion to brand rows.

    Args:
        frame: typed encounters (see :func:`modelyard.adherence.data.load_uci`).
        config: the use-case config; the default config if omitted.
        with_label: attach the configured label when its column is present.
        history: the patient history of each row (:data:`~modelyard.adherence.history.
            GROUP_FEATURES`, one row per encounter, e.g. read from the feature store);
            default: computed from the earlier encounters of the same patient in ``frame``
            (:func:`~modelyard.adherence.history.batch_history`, the same definition).

    Raises:
        InvalidInputError: the label column exists but cannot be read under the label rule.
    """
    config = config or AdherenceConfig()
    enc = _encounter_features(frame, config, history)
    brands = _brand_rows(enc)
    numeric = [*BASE_NUMERIC, *HISTORY_NUMERIC]
    if config.features.use_prior_outcomes:
        numeric += list(OUTCOME_HISTORY_NUMERIC)
    enc_cols = ["encounter_id", "patient_nbr", "n_brands", *numeric, *ENCOUNTER_CATEGORICAL]
    encounters = enc.select(enc_cols)
    if with_label and config.label.column in frame.columns:
        encounters = encounters.with_columns(label_series(frame, config.label))
    return FeatureFrame(
        encounters=encounters,
        brands=brands,
        numeric=(*numeric, *BRAND_NUMERIC),
        categorical=CATEGORICAL_FEATURES,
    )
