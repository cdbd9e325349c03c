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


# diagnosis_group() of a numeric ICD-9 code: the group of each interval [b_i, b_i+1) of the
# code's value ("whole == 250" is [250, 251)); below the first and from the last: "other".
_GROUP_BREAKS = pl.Series(
    [140, 240, 250, 251, 390, 460, 520, 580, 630, 710, 740, 785, 786, 787, 788, 789, 800, 1000],
    dtype=pl.Float64,
)
_GROUP_LABELS = pl.Series(
    [
        "other",
        "neoplasms",  # [140, 240)
        "other",
        "diabetes",  # 250.x
        "other",
        "circulatory",  # [390, 460)
        "respiratory",  # [460, 520)
        "digestive",  # [520, 580)
        "genitourinary",  # [580, 630)
        "other",
        "musculoskeletal",  # [710, 740)
        "other",
        "circulatory",  # 785.x
        "respiratory",  # 786.x
        "digestive",  # 787.x
        "genitourinary",  # 788.x
        "other",
        "injury",  # [800, 1000)
        "other",
    ],
    dtype=pl.String,
)


def diagnosis_group(code: pl.Expr) -> pl.Expr:
    """ICD-9 code (text) → diagnosis group, the grouping of Strack et al. (2014).

    ``missing`` (null or ``?``), ``supplementary_v`` (V codes), ``external_e`` (E codes),
    ``diabetes`` (250.x), ``circulatory`` (390–459, 785), ``respiratory`` (460–519, 786),
    ``digestive`` (520–579, 787), ``injury`` (800–999), ``musculoskeletal`` (710–739),
    ``genitourinary`` (580–629, 788), ``neoplasms`` (140–239), else ``other``.
    """
    num = code.cast(pl.Float64, strict=False)
    # one lookup instead of a chain of comparisons (NaN sorts last: "other"; null: "other")
    interval = pl.lit(_GROUP_BREAKS).search_sorted(num, side="right")
    by_number = pl.lit(_GROUP_LABELS).gather(interval).fill_null("other")
    return (
        pl.when(code.is_null() | (code == MISSING))
        .then(pl.lit("missing"))
        .when(code.str.starts_with("V"))
        .then(pl.lit("supplementary_v"))
        .when(code.str.starts_with("E"))
        .then(pl.lit("external_e"))
        .otherwise(by_number)
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


@cache
def _derived_exprs() -> dict[str, pl.Expr]:
    """The encounter features computed from the source columns (built once: constant)."""
    return {
        "admission_type": _id_description(
            "admission_type_id", "admission_type_id", "admission_type"
        ),
        "discharge_disposition": _id_description(
            "discharge_disposition_id", "discharge_disposition_id", "discharge_disposition"
        ),
        "admission_source": _id_description(
            "admission_source_id", "admission_source_id", "admission_source"
        ),
        **{f"{d}_group": diagnosis_group(pl.col(d)).alias(f"{d}_group") for d in _DIAGNOSES},
        # "[70-80)" -> 75
        "age_years": (
            pl.col("age").str.extract(r"^\[(\d+)-", 1).cast(pl.Float64, strict=False) + 5.0
        ).alias("age_years"),
        "total_visits": (
            pl.col("number_outpatient") + pl.col("number_emergency") + pl.col("number_inpatient")
        )
        .cast(pl.Float64)
        .alias("total_visits"),
    }


_DIAGNOSES = ("diag_1", "diag_2", "diag_3")

# Medication value -> code: No 0, Steady 1, Up 2, Down 3, ? 4 (the Enum's physical codes);
# a null is coded as "?" and any other value as _OTHER_DOSE (see _medication_codes).
_DOSE_ENUM = pl.Enum(["No", "Steady", "Up", "Down", MISSING])
_MISSING_DOSE = 4
_OTHER_DOSE = 5
_DOSE_CODES = tuple(
    pl.col(m).cast(_DOSE_ENUM, strict=False).to_physical().alias(f"_dose_{m}")
    for m in MEDICATION_COLUMNS
)


def _medication_codes(frame: pl.DataFrame, dose_codes: pl.DataFrame) -> np.ndarray:
    """The medication columns as an (encounters x brands) int8 matrix of dose codes.

    ``dose_codes``: the :data:`_DOSE_CODES` of ``frame`` (computed with other columns)."""
    raw = dose_codes.to_numpy().reshape(frame.height, len(MEDICATION_COLUMNS))
    if raw.dtype.kind == "f":  # nulls: a missing value, or a value outside the vocabulary
        given = frame.select(pl.col(m).is_not_null() for m in MEDICATION_COLUMNS).to_numpy()
        other = np.where(given.reshape(raw.shape), _OTHER_DOSE, _MISSING_DOSE)
        raw = np.where(np.isnan(raw), other, raw)
    return raw.astype(np.int8)


def _encounter_features(
    frame: pl.DataFrame,
    config: AdherenceConfig,
    history: pl.DataFrame | None,
    columns: list[str],
) -> tuple[pl.DataFrame, np.ndarray]:
    """The encounter-level ``columns`` of ``frame``, and its :func:`_medication_codes`.

    One select computes the derived features and the dose codes; the other columns are taken
    as they are (on a small batch, a select costs more per column than the work itself)."""
    history = batch_history(frame) if history is None else check_history(history, frame.height)
    past = model_history(history, outcomes=config.features.use_prior_outcomes)
    derived = _derived_exprs()
    source = pl.concat([frame, past], how="horizontal")
    wanted = [c for c in columns if c in derived]
    computed = source.select(*(derived[c] for c in wanted), *_DOSE_CODES)
    parts = computed.get_columns()
    codes = _medication_codes(frame, pl.DataFrame(parts[len(wanted) :]))
    # a brand is taken unless "No" or missing (a value outside the vocabulary counts)
    taken = (codes != 0) & (codes != _MISSING_DOSE)
    made = {
        **dict(zip(wanted, parts[: len(wanted)], strict=True)),
        "n_brands": pl.Series("n_brands", taken.sum(axis=1, dtype=np.int32)),
        "n_dose_up": pl.Series("n_dose_up", (codes == 2).sum(axis=1, dtype=np.int32)),
        "n_dose_down": pl.Series("n_dose_down", (codes == 3).sum(axis=1, dtype=np.int32)),
    }
    encounters = pl.DataFrame([made[c] if c in made else source.get_column(c) for c in columns])
    return encounters, codes


_BRANDS = pl.Series("brand", [NO_BRAND, *MEDICATION_COLUMNS])
_CLASS_1 = pl.Series("brand_class", [NO_BRAND, *(BRAND_CLASSES[m][0] for m in MEDICATION_COLUMNS)])
_CLASS_2 = pl.Series(
    "brand_class_2",
    [NO_BRAND, *(c[1] if len(c) > 1 else NO_BRAND for c in BRAND_CLASSES.values())],
)
_DOSES = pl.Series("brand_dose", [NO_BRAND, "Steady", "Up", "Down"])
_BRAND_TABLE = pl.DataFrame([_BRANDS, _CLASS_1, _CLASS_2])


def _brand_rows(codes: np.ndarray) -> pl.DataFrame:
    """One row per (encounter, brand taken); an encounter on no brand gets one empty row.

    ``codes``: the :func:`_medication_codes` of the encounters.
    """
    # taken with a dose change of Steady (1), Up (2) or Down (3)
    dose = np.where((codes >= 1) & (codes <= 3), codes, 0)
    taken = dose > 0
    n_taken = taken.sum(axis=1)
    # Column 0 stands for "no brand": row-major nonzero() yields (encounter, brand) in order.
    mask = np.concatenate([(n_taken == 0)[:, None], taken], axis=1)
    rows, cols = np.nonzero(mask)
    brand_dose = np.where(cols > 0, dose[rows, np.maximum(cols - 1, 0)], 0)
    brand = _BRAND_TABLE[cols.astype(np.uint32)]  # brand, brand_class, brand_class_2
    return pl.DataFrame(
        [
            pl.Series("_enc", rows.astype(np.uint32)),
            *brand.get_columns(),
            _DOSES[brand_dose.astype(np.uint32)],
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
    numeric = [*BASE_NUMERIC, *HISTORY_NUMERIC]
    if config.features.use_prior_outcomes:
        numeric += list(OUTCOME_HISTORY_NUMERIC)
    enc_cols = ["encounter_id", "patient_nbr", "n_brands", *numeric, *ENCOUNTER_CATEGORICAL]
    encounters, codes = _encounter_features(frame, config, history, enc_cols)
    brands = _brand_rows(codes)
    if with_label and config.label.column in frame.columns:
        encounters = encounters.with_columns(label_series(frame, config.label))
    return FeatureFrame(
        encounters=encounters,
        brands=brands,
        numeric=(*numeric, *BRAND_NUMERIC),
        categorical=CATEGORICAL_FEATURES,
    )
