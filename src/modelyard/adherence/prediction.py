"""Batch prediction: one row per (encounter, brand), or one row per encounter.

Output columns (brand level)::

    encounter_id  patient_nbr  brand  probability  label  confidence
    risk_factors  model_version  flags

- ``brand``: the medication column the row is about; ``""`` for an encounter without any
  diabetes medication (its single row).
- ``probability``: calibrated probability of the positive label (30-day readmission by
  default), in [0, 1].
- ``label``: ``probability >= threshold`` (the model's decision threshold).
- ``confidence``: how far the probability is from the threshold, as a fraction of the room on
  that side: ``(p - t) / (1 - t)`` when ``p >= t``, else ``(t - p) / t``. 0 means "on the
  threshold", 1 means "at 0 or 1". It is a decision margin, not a probability.
- ``risk_factors``: the 5 features with the largest absolute contribution to the row's raw
  score (log-odds), each ``{feature, contribution}``, signed (positive raises the risk).
  LightGBM: TreeSHAP values (``pred_contrib=True``); logistic: coefficient × value.
- ``flags``: notes on the input: ``unseen:<feature>=<value>`` (a category value never seen at
  training; predicted as the ``__other__`` level, not dropped) and ``all_features_missing``.

Encounter level: ``n_brands`` replaces ``brand``; the encounter's raw score is the mean of
its brand rows' raw scores (its contributions are the mean of theirs), then calibrated.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa

from modelyard.adherence.data import check_batch, coerce_frame
from modelyard.adherence.features import FeatureFrame, build_features
from modelyard.adherence.model import TrainedModel, empty_lists
from modelyard.adherence.schema import ID_COLUMNS, INTEGER_COLUMNS, MISSING, STRING_COLUMNS
from modelyard.errors import InvalidInputError

__all__ = ["BRAND_OUTPUT_SCHEMA", "ENCOUNTER_OUTPUT_SCHEMA", "predict", "predict_proba"]

TOP_K = 5
_RISK_STRUCT = pl.Struct({"feature": pl.String, "contribution": pl.Float64})
_RISK = pl.List(_RISK_STRUCT)
BRAND_OUTPUT_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]
        "encounter_id": pl.Int64,
        "patient_nbr": pl.Int64,
        "brand": pl.String,
        "probability": pl.Float64,
        "label": pl.Boolean,
        "confidence": pl.Float64,
        "risk_factors": _RISK,
        "model_version": pl.String,
        "flags": pl.List(pl.String),
    }
)
ENCOUNTER_OUTPUT_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]
        "encounter_id": pl.Int64,
        "patient_nbr": pl.Int64,
        "n_brands": pl.Int64,
        "probability": pl.Float64,
        "label": pl.Boolean,
        "confidence": pl.Float64,
        "risk_factors": _RISK,
        "model_version": pl.String,
        "flags": pl.List(pl.String),
    }
)

Level = Literal["brand", "encounter"]


def _prepare(
    model: TrainedModel,
    frame: pl.DataFrame,
    extra_columns: Literal["error", "ignore"],
    history: pl.DataFrame | None,
    coerced: bool,
) -> tuple[pl.DataFrame, FeatureFrame]:
    if not isinstance(frame, pl.DataFrame):
        raise InvalidInputError(
            f"predict needs a polars DataFrame, got {type(frame).__name__}",
            hint="read the batch with modelyard.adherence.load_uci()",
        )
    if frame.height == 0:
        raise InvalidInputError("the batch has no rows", hint="pass at least one encounter")
    optional = model.input_schema["optional"]
    if extra_columns == "ignore":
        known = {*INTEGER_COLUMNS, *STRING_COLUMNS, *optional}
        keep = [c for c in frame.columns if c in known]
        if len(keep) != frame.width:
            frame = frame.select(keep)
    data = frame if coerced else coerce_frame(frame)
    check_batch(data, allowed_extra=optional)
    return data, build_features(data, model.config, with_label=False, history=history)


def _check_level(level: str) -> None:
    if level not in ("brand", "encounter"):
        raise InvalidInputError(
            f"unknown prediction level {level!r}", hint="use level='brand' or level='encounter'"
        )


def predict_proba(
    model: TrainedModel,
    frame: pl.DataFrame,
    *,
    level: Level = "encounter",
    extra_columns: Literal["error", "ignore"] = "error",
    num_threads: int = 0,
    history: pl.DataFrame | None = None,
    coerced: bool = False,
) -> pl.DataFrame:
    """Fast path: calibrated probabilities only (no risk factors, no flags).

    Returns ``encounter_id``, ``patient_nbr`` (and ``brand`` at brand level), ``probability``.

    Raises:
        InvalidInputError: see :func:`predict`.
    """
    _check_level(level)
    _, feats = _prepare(model, frame, extra_columns, history, coerced)
    x, _ = model.preprocessor.transform(feats, with_flags=False)
    raw = model.raw_score(x, num_threads=num_threads)
    ids = _ids(feats)
    if level == "encounter":
        p = model.calibrator(_encounter_mean(feats, raw))
        return pl.DataFrame([*ids.get_columns(), pl.Series("probability", p)])
    brand_ids = ids[feats.brand_index]
    return pl.DataFrame(
        [
            *brand_ids.get_columns(),
            feats.brands.get_column("brand"),
            pl.Series("probability", model.calibrator(raw)),
        ]
    )


def _ids(feats: FeatureFrame) -> pl.DataFrame:
    """The id columns of the encounters (no query: the frame is built from its columns)."""
    return pl.DataFrame([feats.encounters.get_column(c) for c in ID_COLUMNS])


def predict(
    model: TrainedModel,
    frame: pl.DataFrame,
    *,
    level: Level = "brand",
    model_version: str = "",
    extra_columns: Literal["error", "ignore"] = "error",
    risk_factors: bool = True,
    risk_factor_method: Literal["treeshap", "path"] = "treeshap",
    num_threads: int = 0,
    history: pl.DataFrame | None = None,
    coerced: bool = False,
) -> pl.DataFrame:
    """Predict a batch of encounters.

    Args:
        model: a trained model.
        frame: UCI-shaped encounters (every source column; ``readmitted`` optional: when
            present, earlier encounters' outcomes feed the history features; the current
            encounter's own outcome is never used).
        level: ``brand`` (one row per encounter and brand) or ``encounter``.
        model_version: written into every row.
        extra_columns: ``error`` refuses columns the model does not know; ``ignore`` drops
            them.
        risk_factors: compute the top-5 contributions (the slow part); when false the
            column holds empty lists.
        risk_factor_method: ``treeshap`` (exact TreeSHAP, LightGBM ``pred_contrib``) or
            ``path`` (decision-path attribution, ~10x faster); see
            :meth:`TrainedModel.contributions`.
        num_threads: threads for the estimator (0: LightGBM's default).
        history: each encounter's patient history (the
            :data:`~modelyard.adherence.history.GROUP_FEATURES`, one row per row of
            ``frame``), e.g. :meth:`~modelyard.adherence.store.PatientHistoryStore.
            for_prediction`; default: from the earlier encounters in ``frame``.
        coerced: ``frame`` is the output of :func:`~modelyard.adherence.data.coerce_frame`
            (typed and checked): skip typing and checking it again. Pass a frame straight
            from ``coerce_frame`` only; the batch checks (no rows, unknown columns,
            duplicated encounter_id) still run.

    Returns:
        A frame with :data:`BRAND_OUTPUT_SCHEMA` or :data:`ENCOUNTER_OUTPUT_SCHEMA`.

    Raises:
        InvalidInputError: zero rows, a missing or unknown column, a value of the wrong type,
            a missing or duplicated encounter_id, an unknown level.
    """
    _check_level(level)
    data, feats = _prepare(model, frame, extra_columns, history, coerced)
    x, flags = model.preprocessor.transform(feats)
    raw = model.raw_score(x, num_threads=num_threads)
    contrib = (
        model.contributions(x, num_threads=num_threads, method=risk_factor_method)
        if risk_factors
        else None
    )
    names = np.asarray(model.feature_names, dtype=object)
    enc_missing = _all_missing(data)
    idx = feats.brand_index
    if level == "encounter":
        starts = _starts(feats)
        raw_out = _encounter_mean(feats, raw)
        contrib_out = (
            np.add.reduceat(contrib, starts, axis=0) / np.diff(np.append(starts, len(idx)))[:, None]
            if contrib is not None
            else None
        )
        flags_out = _encounter_flags(flags, idx, feats.encounters.height)
        missing = enc_missing
        ids = [
            *_ids(feats).get_columns(),
            feats.encounters.get_column("n_brands").cast(pl.Int64),
        ]
    else:
        raw_out = raw
        contrib_out = contrib
        flags_out = flags
        missing = enc_missing[idx]
        ids = [*_ids(feats)[idx].get_columns(), feats.brands.get_column("brand")]
    p = model.calibrator(raw_out)
    t = model.threshold
    label = p >= t
    confidence = np.where(label, (p - t) / max(1.0 - t, 1e-12), (t - p) / max(t, 1e-12)).clip(
        0.0, 1.0
    )
    if missing.any():
        flags_out = pl.Series("flags", flags_out.to_list(), dtype=pl.List(pl.String))
        flags_out = pl.select(
            pl.when(pl.Series(missing))
            .then(pl.lit(flags_out).list.concat(pl.lit(["all_features_missing"])))
            .otherwise(flags_out)
            .alias("flags")
        ).to_series()
    # built from its columns, in the output schema's order (no query)
    return pl.DataFrame(
        [
            *ids,
            pl.Series("probability", p, dtype=pl.Float64),
            pl.Series("label", label, dtype=pl.Boolean),
            pl.Series("confidence", confidence, dtype=pl.Float64),
            _risk_column(contrib_out, names, len(p)),
            pl.Series("model_version", [model_version], dtype=pl.String).new_from_index(0, len(p)),
            flags_out.alias("flags"),
        ]
    )


def _starts(feats: FeatureFrame) -> np.ndarray:
    idx = feats.brand_index
    starts = np.flatnonzero(np.diff(idx, prepend=-1) != 0)
    return starts


def _encounter_mean(feats: FeatureFrame, raw: np.ndarray) -> np.ndarray:
    idx = feats.brand_index
    n = feats.encounters.height
    return np.bincount(idx, weights=raw, minlength=n) / np.maximum(np.bincount(idx, minlength=n), 1)


def _risk_column(contrib: np.ndarray | None, names: np.ndarray, n: int) -> pl.Series:
    if contrib is None:
        return empty_lists("risk_factors", n, _RISK_STRUCT)
    values = contrib[:, : len(names)]
    k = min(TOP_K, values.shape[1])
    top = np.argpartition(-np.abs(values), k - 1, axis=1)[:, :k]
    picked = np.take_along_axis(values, top, axis=1)
    order = np.argsort(-np.abs(picked), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    picked = np.take_along_axis(picked, order, axis=1)
    struct = pa.StructArray.from_arrays(
        [
            pa.DictionaryArray.from_arrays(
                pa.array(top.ravel().astype(np.int32)), pa.array(list(names), pa.string())
            ).cast(pa.string()),
            pa.array(picked.ravel(), pa.float64()),
        ],
        names=["feature", "contribution"],
    )
    offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
    listed = pa.ListArray.from_arrays(offsets, struct)
    series = pl.from_arrow(listed)
    assert isinstance(series, pl.Series)
    return series.alias("risk_factors").cast(_RISK)


def _encounter_flags(flags: pl.Series, idx: np.ndarray, n: int) -> pl.Series:
    if flags.list.len().sum() == 0:
        return empty_lists("flags", n)
    grouped = (
        pl.DataFrame({"_enc": idx, "flags": flags})
        .group_by("_enc", maintain_order=True)
        .agg(pl.col("flags").explode().drop_nulls().unique(maintain_order=True))
        .sort("_enc")
    )
    return grouped.get_column("flags").cast(pl.List(pl.String))


_SOURCE_INTEGERS = tuple(c for c in INTEGER_COLUMNS if c not in ID_COLUMNS)
_PRESENT = pl.any_horizontal(
    *(pl.col(c).is_not_null() for c in _SOURCE_INTEGERS),
    *(pl.col(c) != MISSING for c in STRING_COLUMNS),
)


def _all_missing(data: pl.DataFrame) -> np.ndarray:
    """Encounters whose every source column except the ids is missing."""
    if any(data.get_column(c).null_count() == 0 for c in _SOURCE_INTEGERS):
        return np.zeros(data.height, dtype=bool)  # a number column is never missing
    return data.select((~_PRESENT).alias("m")).to_series().to_numpy()
