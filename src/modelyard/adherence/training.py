"""Training the adherence model: patient-grouped validation slice, calibration, threshold.

The model learns from brand rows (one per encounter and brand taken) weighted ``1/rows`` so
that every encounter weighs 1 whatever its number of brands; the label is the encounter's.
An encounter's raw score is the mean of its brand rows' margins; calibration, the threshold
and every metric are computed at the encounter level.
"""

from __future__ import annotations

import time
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupShuffleSplit

from modelyard.adherence.calibration import fit_calibrator
from modelyard.adherence.config import AdherenceConfig, label_series
from modelyard.adherence.data import load_uci
from modelyard.adherence.features import FeatureFrame, build_features
from modelyard.adherence.metrics import choose_threshold, encounter_metrics
from modelyard.adherence.model import LogisticState, Preprocessor, TrainedModel
from modelyard.errors import InvalidInputError

__all__ = ["encounter_scores", "patient_split", "train", "training_features"]

MIN_ENCOUNTERS = 50


def patient_split(patients: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the encounters whose patient falls in the held-out ``fraction``.

    Every encounter of a patient lands on the same side.
    """
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    _, held = next(splitter.split(np.zeros(len(patients)), groups=patients))
    mask = np.zeros(len(patients), dtype=bool)
    mask[held] = True
    return mask


def training_features(
    frame: pl.DataFrame, config: AdherenceConfig, *, history: pl.DataFrame | None = None
) -> FeatureFrame:
    """Typed data → features of the encounters eligible for training.

    History is computed on all rows given (an excluded encounter is still part of the
    patient's past), or taken from ``history`` (one row per row of ``frame``, e.g. read point
    in time from the feature store), then death/hospice discharges are dropped.

    Raises:
        InvalidInputError: no label column, too few encounters, or only one class.
    """
    data = load_uci(frame)
    label_series(data.head(1), config.label)  # refuses a missing label column early
    features = build_features(data, config, history=history)
    excluded = data.get_column("discharge_disposition_id").is_in(
        list(config.excluded_discharge_ids)
    )
    features = features.subset(~excluded.fill_null(False).to_numpy())
    n = features.encounters.height
    if n < MIN_ENCOUNTERS:
        raise InvalidInputError(
            f"training needs at least {MIN_ENCOUNTERS} eligible encounters, found {n}",
            hint="pass more data (death/hospice discharges are excluded)",
        )
    y = features.encounters.get_column("label")
    if y.n_unique() < 2:
        raise InvalidInputError(
            f"training data has only one label class ({y[0]}) under the label rule "
            f"{config.label.column} {config.label.rule} "
            f"{config.label.values or config.label.value}",
            hint="check the label config; both outcomes must occur",
        )
    return features


def encounter_scores(features: FeatureFrame, row_scores: np.ndarray) -> np.ndarray:
    """Mean of the brand-row scores of each encounter."""
    idx = features.brand_index
    n = features.encounters.height
    counts = np.bincount(idx, minlength=n)
    return np.bincount(idx, weights=row_scores, minlength=n) / np.maximum(counts, 1)


def train(
    frame: pl.DataFrame,
    config: AdherenceConfig | None = None,
    *,
    features: FeatureFrame | None = None,
) -> TrainedModel:
    """Train, calibrate and set the threshold of an adherence model.

    Args:
        frame: UCI-shaped encounters with the label column (see :func:`load_uci`).
        config: the use-case config; defaults if omitted.
        features: precomputed :func:`training_features` of ``frame`` (skips recomputation).

    Returns:
        The model; ``metrics`` hold the validation metrics (encounter level) and facts of
        the training run.

    Raises:
        InvalidInputError: invalid data, missing label column, too little data.
    """
    config = config or AdherenceConfig()
    started = time.perf_counter()
    feats = features if features is not None else training_features(frame, config)
    patients = feats.encounters.get_column("patient_nbr").to_numpy()
    held = patient_split(patients, config.split.validation_fraction, config.split.seed)
    fit_part, val_part = feats.subset(~held), feats.subset(held)
    y_fit_enc = fit_part.encounters.get_column("label").to_numpy()
    y_val = val_part.encounters.get_column("label").to_numpy()
    if len(np.unique(y_fit_enc)) < 2 or len(np.unique(y_val)) < 2:
        raise InvalidInputError(
            "a patient-grouped slice of the training data holds one label class only",
            hint="pass more data, or change split.seed / split.validation_fraction",
        )
    pre = Preprocessor.fit(fit_part, config.features.min_category_count)
    x_fit, _ = pre.transform(fit_part)
    x_val, _ = pre.transform(val_part)
    y_fit, w_fit = _row_targets(fit_part)
    y_val_rows, w_val = _row_targets(val_part)
    model = TrainedModel(
        config=config,
        preprocessor=pre,
        kind=config.model.type,
        calibrator=fit_calibrator(np.zeros(2), np.array([0.0, 1.0]), "platt"),
        threshold=0.5,
    )
    facts: dict[str, Any] = {}
    if config.model.type == "lightgbm":
        model.booster, facts = _fit_lightgbm(
            config, pre, x_fit, y_fit, w_fit, x_val, y_val_rows, w_val
        )
    else:
        model.logistic = _fit_logistic(config, pre, x_fit, y_fit, w_fit)
    raw_val = encounter_scores(val_part, model.raw_score(x_val))
    model.calibrator = fit_calibrator(raw_val, y_val, config.calibration.method)
    p_val = model.calibrator(raw_val)
    model.threshold, rule_met = choose_threshold(y_val, p_val, config.threshold)
    metrics = encounter_metrics(
        y_val,
        p_val,
        model.threshold,
        reference_prevalence=float(y_fit_enc.mean()),
        min_precision=config.threshold.precision,
    )
    model.metrics = {
        **{f"validation_{k}": v for k, v in metrics.items()},
        "threshold_rule": config.threshold.rule,
        "threshold_rule_met": rule_met,
        "n_train_encounters": int(fit_part.encounters.height),
        "n_train_brand_rows": int(fit_part.brands.height),
        "n_validation_encounters": int(val_part.encounters.height),
        "n_features": len(pre.feature_names),
        "train_prevalence": float(y_fit_enc.mean()),
        **facts,
        "training_seconds": round(time.perf_counter() - started, 3),
        "evaluation_unit": "encounter",
    }
    return model


def _row_targets(features: FeatureFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per brand row: the encounter's label, and weight 1/(rows of that encounter)."""
    idx = features.brand_index
    counts = np.bincount(idx, minlength=features.encounters.height)
    y = features.encounters.get_column("label").to_numpy()[idx].astype(np.float64)
    return y, 1.0 / counts[idx]


def _fit_lightgbm(
    config: AdherenceConfig,
    pre: Preprocessor,
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    w_fit: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    w_val: np.ndarray,
) -> tuple[lgb.Booster, dict[str, Any]]:
    hp = config.model.lightgbm
    params: dict[str, Any] = {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": hp.learning_rate,
        "num_leaves": hp.num_leaves,
        "max_depth": hp.max_depth,
        "min_child_samples": hp.min_child_samples,
        "feature_fraction": hp.feature_fraction,
        "bagging_fraction": hp.bagging_fraction,
        "bagging_freq": hp.bagging_freq,
        "lambda_l2": hp.lambda_l2,
        "cat_smooth": hp.cat_smooth,
        "cat_l2": hp.cat_l2,
        "min_data_per_group": hp.min_data_per_group,
        "num_threads": hp.num_threads,
        "seed": config.split.seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
    }
    names = list(pre.feature_names)
    cats = pre.categorical_indices
    train_set = lgb.Dataset(
        x_fit, y_fit, weight=w_fit, feature_name=names, categorical_feature=cats
    )
    valid_set = lgb.Dataset(x_val, y_val, weight=w_val, reference=train_set)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=hp.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(hp.early_stopping_rounds, verbose=False)],
    )
    best = booster.best_iteration or hp.max_rounds
    # Keep only the trees early stopping chose: smaller model, faster prediction.
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return booster, {"n_trees": int(best)}


def _fit_logistic(
    config: AdherenceConfig,
    pre: Preprocessor,
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    w_fit: np.ndarray,
) -> LogisticState:
    n_num = len(pre.numeric)
    num = x_fit[:, :n_num].astype(np.float64)
    median = np.nanmedian(num, axis=0) if num.size else np.zeros(n_num)
    median = np.where(np.isnan(median), 0.0, median)
    logged = np.log1p(np.maximum(np.where(np.isnan(num), median, num), 0.0))
    mean = logged.mean(axis=0)
    scale = logged.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (logged - mean) / scale
    sizes = [len(pre.levels[c]) for c in pre.categorical]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    codes = x_fit[:, n_num:].astype(np.int64) + offsets[:-1]
    n = x_fit.shape[0]
    onehot = sparse.csr_matrix(
        (np.ones(codes.size), codes.ravel(), np.arange(0, codes.size + 1, codes.shape[1])),
        shape=(n, int(offsets[-1])),
    )
    design = sparse.hstack([sparse.csr_matrix(z), onehot], format="csr")
    hp = config.model.logistic
    lr = LogisticRegression(C=hp.c, max_iter=hp.max_iter)
    lr.fit(design, y_fit, sample_weight=w_fit)
    coef = lr.coef_[0]
    cat_coef = coef[n_num:]
    return LogisticState(
        intercept=float(lr.intercept_[0]),
        numeric_median=tuple(float(v) for v in median),
        numeric_mean=tuple(float(v) for v in mean),
        numeric_scale=tuple(float(v) for v in scale),
        numeric_coef=tuple(float(v) for v in coef[:n_num]),
        categorical_coef=tuple(
            tuple(float(v) for v in cat_coef[offsets[i] : offsets[i + 1]])
            for i in range(len(sizes))
        ),
    )
