"""Entities of the adherence use case: the preprocessing state and the trained model.

A :class:`TrainedModel` is stored as a bundle of plain files, never a pickle:

- ``manifest.json``: format version, model kind, config, feature names, category levels,
  numeric scaling (logistic), calibrator, threshold, metrics, input schema;
- ``booster.txt``: the LightGBM model in LightGBM's own text format (kind ``lightgbm``), or
- ``logistic.json``: the logistic-regression coefficients (kind ``logistic``).

:meth:`TrainedModel.from_artifacts` checks the bundle's shape and refuses a malformed one
with :class:`~modelyard.errors.InvalidInputError`; checksums are the registry's business.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from scipy import sparse

from modelyard.adherence.calibration import Calibrator
from modelyard.adherence.config import AdherenceConfig
from modelyard.adherence.features import BRAND_CATEGORICAL, BRAND_NUMERIC, FeatureFrame
from modelyard.adherence.schema import INTEGER_COLUMNS, LABEL_COLUMN, STRING_COLUMNS
from modelyard.errors import InvalidInputError

__all__ = [
    "FORMAT_VERSION",
    "LogisticState",
    "Preprocessor",
    "TrainedModel",
    "empty_lists",
    "input_schema",
]

FORMAT_VERSION: Literal[1] = 1
OTHER = "__other__"
"""The level that gathers rare and unseen values of a categorical feature."""

RENAMED_FEATURES = {"prior_positive": "prior_readmitted_30"}
"""Features renamed since a model may have been trained: old name -> new name. Under the
default label, ``prior_positive`` (earlier encounters with a positive label) counted exactly
what ``prior_readmitted_30`` counts."""

MANIFEST = "manifest.json"
BOOSTER = "booster.txt"
LOGISTIC = "logistic.json"


def input_schema(config: AdherenceConfig) -> dict[str, Any]:
    """The columns a prediction batch must carry, with their types, and the optional ones."""
    columns = {c: "integer" for c in INTEGER_COLUMNS}
    columns.update({c: "string" for c in STRING_COLUMNS})
    optional = sorted({LABEL_COLUMN, config.label.column})
    return {"required": columns, "optional": optional, "missing_value": "?"}


class Preprocessor(BaseModel):
    """Learned encoding: category levels per categorical feature, numeric scaling.

    ``levels[c]`` lists the levels kept for feature ``c`` (the last is ``__other__``);
    ``known[c]`` lists every value seen at training (rare ones map to ``__other__`` without
    a flag; values outside ``known`` are *unseen*: mapped to ``__other__`` and flagged).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]
    known: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _check(self) -> Preprocessor:
        for name in self.categorical:
            if name not in self.levels or name not in self.known:
                raise ValueError(f"categorical feature {name!r} has no levels")
            if not self.levels[name] or self.levels[name][-1] != OTHER:
                raise ValueError(f"levels of {name!r} must end with {OTHER!r}")
        return self

    @property
    def feature_names(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.numeric), len(self.numeric) + len(self.categorical)))

    @classmethod
    def fit(cls, features: FeatureFrame, min_count: int) -> Preprocessor:
        """Learn the levels of each categorical feature from training ``features``."""
        levels: dict[str, tuple[str, ...]] = {}
        known: dict[str, tuple[str, ...]] = {}
        for name in features.categorical:
            source = features.brands if name in BRAND_CATEGORICAL else features.encounters
            counts = source.get_column(name).value_counts(sort=True)
            values = counts.get_column(name).to_list()
            n = counts.get_column("count").to_list()
            keep = sorted(v for v, c in zip(values, n, strict=True) if c >= min_count)
            levels[name] = (*keep, OTHER)
            known[name] = tuple(sorted(values))
        return cls(
            numeric=features.numeric,
            categorical=features.categorical,
            levels=levels,
            known=known,
        )

    def transform(
        self, features: FeatureFrame, *, with_flags: bool = True
    ) -> tuple[np.ndarray, pl.Series]:
        """Encode ``features`` into the model matrix, one row per brand row.

        Returns:
            ``(X, flags)``: ``X`` is float64 (LightGBM predicts faster from it), columns
            in :attr:`feature_names` order (categoricals as level codes); ``flags`` is a
            list[str] per brand row naming the unseen values it carried
            (``unseen:<feature>=<value>``), empty when none.

        Raises:
            InvalidInputError: ``features`` lack a feature the model was trained with.
        """
        enc_num = [c for c in self.numeric if c not in BRAND_NUMERIC]
        brand_num = [c for c in self.numeric if c in BRAND_NUMERIC]
        enc_cat = [c for c in self.categorical if c not in BRAND_CATEGORICAL]
        brand_cat = [c for c in self.categorical if c in BRAND_CATEGORICAL]
        columns = set(features.encounters.columns)
        legacy = {
            old: new
            for old, new in RENAMED_FEATURES.items()
            if old in enc_num and old not in columns and new in columns
        }
        if legacy:  # a model trained before a feature was renamed reads it under its old name
            features = replace(
                features,
                encounters=features.encounters.with_columns(
                    pl.col(new).alias(old) for old, new in legacy.items()
                ),
            )
            columns |= set(legacy)
        for name in (*enc_num, *enc_cat):
            if name not in columns:
                raise InvalidInputError(
                    f"feature {name!r} is missing from the batch features",
                    hint="the model was trained with other feature settings; check the config",
                )
        idx = features.brands.get_column("_enc")
        enc_part = self._encode(features.encounters, enc_num, enc_cat, with_flags)
        brand_part = self._encode(features.brands, brand_num, brand_cat, with_flags)
        n_rows = features.brands.height
        x = np.empty((n_rows, len(self.numeric) + len(self.categorical)), dtype=np.float64)
        codes, unseen = enc_part
        b_codes, b_unseen = brand_part
        gather = idx.to_numpy()
        n_enc_num = len(enc_num)
        x[:, :n_enc_num] = codes[gather, :n_enc_num]
        x[:, n_enc_num : len(self.numeric)] = b_codes[:, : len(brand_num)]
        offset = len(self.numeric)
        x[:, offset : offset + len(enc_cat)] = codes[gather, n_enc_num:]
        x[:, offset + len(enc_cat) :] = b_codes[:, len(brand_num) :]
        if not with_flags:
            return x, empty_lists("flags", n_rows)
        flags = self._flags(features, idx, unseen, b_unseen, enc_cat, brand_cat)
        return x, flags

    def _encode(
        self, frame: pl.DataFrame, numeric: list[str], categorical: list[str], with_flags: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """One select: the numeric columns as float, each categorical as its level code
        (null when not a kept level), and, for the flags, whether a value is a rare one."""
        encoders = _encoders(self)
        # numeric columns: cast as Series (no query); categoricals: one select
        numbers = [frame.get_column(c).cast(pl.Float64) for c in numeric]
        exprs = [encoders.mapped(c) for c in categorical]
        rare_cols: list[int] = []
        if with_flags:
            for j, name in enumerate(categorical):
                rare = encoders.rare(name)
                if rare is not None:
                    rare_cols.append(j)
                    exprs.append(rare)
        coded = frame.select(exprs)
        out = pl.DataFrame([*numbers, *coded.get_columns()]).to_numpy()
        out = out.astype(np.float64, copy=False)
        n_num, n_cat = len(numeric), len(categorical)
        matrix = out[:, : n_num + n_cat]
        if out.shape[1] > n_num + n_cat:  # the rare-value columns follow the codes
            matrix = matrix.copy()
        mapped = matrix[:, n_num:]
        not_kept = np.isnan(mapped)
        if not_kept.any():
            other = np.asarray([len(self.levels[c]) - 1 for c in categorical], dtype=np.float64)
            matrix[:, n_num:] = np.where(not_kept, other, mapped)
        if not with_flags:
            return matrix, None
        # unseen: not a kept level, not a rare one, and not null
        unseen = not_kept
        for k, j in enumerate(rare_cols):
            unseen[:, j] &= out[:, n_num + n_cat + k] == 0.0  # NaN (a null value): False
        rare_set = set(rare_cols)
        for j, name in enumerate(categorical):
            if j not in rare_set and frame.get_column(name).null_count():
                unseen[:, j] &= frame.get_column(name).is_not_null().to_numpy()
        return matrix, (unseen if unseen.any() else None)

    def _flags(
        self,
        features: FeatureFrame,
        idx: pl.Series,
        unseen: np.ndarray | None,
        b_unseen: np.ndarray | None,
        enc_cat: list[str],
        brand_cat: list[str],
    ) -> pl.Series:
        n_rows = features.brands.height
        if unseen is None and b_unseen is None:
            return empty_lists("flags", n_rows)
        pairs: list[pl.DataFrame] = []
        if unseen is not None:
            rows, cols = np.nonzero(unseen)
            flags = [
                f"unseen:{enc_cat[j]}={features.encounters.get_column(enc_cat[j])[int(r)]}"
                for r, j in zip(rows, cols, strict=True)
            ]
            enc_pairs = pl.DataFrame(
                {"_enc": rows.astype(np.uint32), "flag": flags},
                schema={"_enc": pl.UInt32, "flag": pl.String},
            )
            brand_rows = pl.DataFrame({"_enc": idx.cast(pl.UInt32)}).with_row_index("_row")
            pairs.append(brand_rows.join(enc_pairs, on="_enc").select("_row", "flag"))
        if b_unseen is not None:
            rows, cols = np.nonzero(b_unseen)
            flags = [
                f"unseen:{brand_cat[j]}={features.brands.get_column(brand_cat[j])[int(r)]}"
                for r, j in zip(rows, cols, strict=True)
            ]
            pairs.append(
                pl.DataFrame(
                    {"_row": rows.astype(np.uint32), "flag": flags},
                    schema={"_row": pl.UInt32, "flag": pl.String},
                )
            )
        grouped = pl.concat(pairs).group_by("_row").agg(pl.col("flag"))
        full = (
            pl.DataFrame({"_row": np.arange(n_rows, dtype=np.uint32)})
            .join(grouped, on="_row", how="left")
            .sort("_row")
            .get_column("flag")
        )
        return full.fill_null(pl.Series([[]], dtype=pl.List(pl.String))).alias("flags")


class _Encoders:
    """The encoding expressions of one :class:`Preprocessor`, built once per feature."""

    def __init__(self, pre: Preprocessor) -> None:
        self._pre = weakref.proxy(pre)
        self._mapped: dict[str, pl.Expr] = {}
        self._rare: dict[str, pl.Expr | None] = {}

    def mapped(self, name: str) -> pl.Expr:
        """The level code of each value as a float; null when not a kept level."""
        expr = self._mapped.get(name)
        if expr is None:
            kept = self._pre.levels[name][:-1]
            if len(set(kept)) == len(kept):
                # the position in an Enum of the kept levels (null: not one of them); the
                # same codes as replace_strict(kept, range(len(kept))), about twice as fast
                code = pl.col(name).cast(pl.Enum(kept), strict=False).to_physical()
                expr = code.cast(pl.Float64).alias(name)
            else:  # pragma: no cover - levels are unique by construction
                expr = pl.col(name).replace_strict(
                    kept, list(range(len(kept))), default=None, return_dtype=pl.Float64
                )
            self._mapped[name] = expr.alias(name)
        return self._mapped[name]

    def rare(self, name: str) -> pl.Expr | None:
        """Whether a value is a rare one (1.0 / 0.0, NaN for null); None: no rare value."""
        if name not in self._rare:
            kept = set(self._pre.levels[name])
            rare = [v for v in self._pre.known[name] if v not in kept]
            self._rare[name] = (
                pl.col(name).is_in(rare).cast(pl.Float64).alias(f"_rare_{name}") if rare else None
            )
        return self._rare[name]


_ENCODERS: dict[int, _Encoders] = {}


def _encoders(pre: Preprocessor) -> _Encoders:
    """The cached encoders of ``pre`` (dropped when ``pre`` is garbage collected)."""
    key = id(pre)
    found = _ENCODERS.get(key)
    if found is None:
        found = _ENCODERS[key] = _Encoders(pre)
        weakref.finalize(pre, _ENCODERS.pop, key, None)
    return found


def empty_lists(name: str, n: int, inner: pl.DataType | None = None) -> pl.Series:
    """A column of ``n`` empty lists, built without a Python loop."""
    return _one_empty_list(name, inner if inner is not None else pl.String()).new_from_index(0, n)


@cache
def _one_empty_list(name: str, inner: pl.DataType) -> pl.Series:
    return pl.Series(name, [[]], dtype=pl.List(inner))


class LogisticState(BaseModel):
    """The logistic baseline as data: log1p + standardisation, one-hot, coefficients."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intercept: float
    numeric_median: tuple[float, ...]
    numeric_mean: tuple[float, ...]
    numeric_scale: tuple[float, ...]
    numeric_coef: tuple[float, ...]
    categorical_coef: tuple[tuple[float, ...], ...]

    def design(self, x: np.ndarray, n_numeric: int) -> np.ndarray:
        """Standardised numeric block (missing → training median)."""
        num = x[:, :n_numeric].astype(np.float64)
        med = np.asarray(self.numeric_median)
        num = np.where(np.isnan(num), med, num)
        z = (np.log1p(np.maximum(num, 0.0)) - np.asarray(self.numeric_mean)) / np.asarray(
            self.numeric_scale
        )
        return np.asarray(z, dtype=np.float64)

    def contributions(self, x: np.ndarray, n_numeric: int) -> np.ndarray:
        """Per-feature additive contributions to the margin, then the intercept column."""
        z = self.design(x, n_numeric)
        parts = [z * np.asarray(self.numeric_coef)]
        cat = x[:, n_numeric:].astype(np.int64)
        cols = [np.asarray(c)[cat[:, j]] for j, c in enumerate(self.categorical_coef)]
        parts.append(np.column_stack(cols) if cols else np.empty((x.shape[0], 0)))
        parts.append(np.full((x.shape[0], 1), self.intercept))
        return np.hstack(parts)

    def margin(self, x: np.ndarray, n_numeric: int) -> np.ndarray:
        z = self.design(x, n_numeric)
        out = z @ np.asarray(self.numeric_coef) + self.intercept
        cat = x[:, n_numeric:].astype(np.int64)
        for j, c in enumerate(self.categorical_coef):
            out += np.asarray(c)[cat[:, j]]
        return np.asarray(out, dtype=np.float64)


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format_version: Literal[1]
    kind: Literal["lightgbm", "logistic"]
    config: dict[str, Any]
    preprocessor: Preprocessor
    calibrator: Calibrator
    threshold: float
    metrics: dict[str, Any]

    @model_validator(mode="after")
    def _check(self) -> _Manifest:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError("threshold must lie in [0, 1]")
        return self


@dataclass
class TrainedModel:
    """A trained adherence model: encoding, estimator, calibrator, threshold, metrics.

    Attributes:
        config: the config it was trained with.
        preprocessor: learned feature encoding.
        kind: ``lightgbm`` or ``logistic``.
        calibrator: raw encounter score → calibrated probability.
        threshold: decision threshold on the calibrated probability (see the config's rule).
        metrics: validation metrics (encounter level) and training facts.
        booster: the LightGBM booster (kind ``lightgbm``).
        logistic: the logistic coefficients (kind ``logistic``).
    """

    config: AdherenceConfig
    preprocessor: Preprocessor
    kind: Literal["lightgbm", "logistic"]
    calibrator: Calibrator
    threshold: float
    metrics: dict[str, Any] = field(default_factory=dict)
    booster: lgb.Booster | None = None
    logistic: LogisticState | None = None
    _path_cache: tuple[sparse.csr_matrix, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.preprocessor.feature_names

    @property
    def input_schema(self) -> dict[str, Any]:
        return input_schema(self.config)

    @property
    def framework(self) -> str:
        return "lightgbm" if self.kind == "lightgbm" else "scikit-learn"

    def raw_score(self, x: np.ndarray, *, num_threads: int = 0) -> np.ndarray:
        """Raw margin (log-odds) per brand row."""
        if self.booster is not None:
            return np.asarray(
                self.booster.predict(x, raw_score=True, num_threads=num_threads),
                dtype=np.float64,
            )
        if self.logistic is None:  # pragma: no cover - guarded at construction
            raise InvalidInputError("model has no estimator", hint="retrain the model")
        return self.logistic.margin(x, len(self.preprocessor.numeric))

    def contributions(
        self,
        x: np.ndarray,
        *,
        num_threads: int = 0,
        method: Literal["treeshap", "path"] = "treeshap",
    ) -> np.ndarray:
        """Signed per-feature contributions to the margin (last column: the bias).

        Rows sum to :meth:`raw_score`. LightGBM: ``treeshap`` is exact path-dependent
        TreeSHAP (``pred_contrib=True``); ``path`` attributes, in every tree, the change of
        the node value along the row's decision path to the split feature (Saabas; what
        XGBoost calls ``approx_contribs``), about 10x faster. Logistic: coefficient x value
        (``method`` is ignored).
        """
        if self.booster is not None:
            if method == "path":
                return self._path_contributions(x, num_threads)
            return np.asarray(
                self.booster.predict(x, pred_contrib=True, num_threads=num_threads),
                dtype=np.float64,
            )
        if self.logistic is None:  # pragma: no cover
            raise InvalidInputError("model has no estimator", hint="retrain the model")
        return self.logistic.contributions(x, len(self.preprocessor.numeric))

    def _path_contributions(self, x: np.ndarray, num_threads: int) -> np.ndarray:
        assert self.booster is not None
        table, offsets = self._path_table()
        leaves = np.asarray(
            self.booster.predict(x, pred_leaf=True, num_threads=num_threads), dtype=np.int64
        ).reshape(x.shape[0], -1)
        n, n_trees = leaves.shape
        hits = sparse.csr_matrix(
            (
                np.ones(n * n_trees),
                (leaves + offsets[None, :n_trees]).ravel(),
                np.arange(0, n * n_trees + 1, n_trees),
            ),
            shape=(n, table.shape[0]),
        )
        return np.asarray((hits @ table).toarray(), dtype=np.float64)

    def _path_table(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Per (tree, leaf): the path deltas per feature and the tree's root value (bias)."""
        if self._path_cache is not None:
            return self._path_cache
        assert self.booster is not None
        n_features = len(self.feature_names)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        offsets: list[int] = []
        base = 0
        for tree in self.booster.dump_model()["tree_info"]:
            offsets.append(base)
            root = tree["tree_structure"]
            if "leaf_value" in root:  # a single-leaf tree: all bias
                rows.append(base)
                cols.append(n_features)
                vals.append(float(root["leaf_value"]))
                base += 1
                continue
            stack: list[tuple[dict[str, Any], list[tuple[int, float]]]] = [(root, [])]
            n_leaves = 0
            while stack:
                node, path = stack.pop()
                if "leaf_index" in node:
                    leaf = base + int(node["leaf_index"])
                    n_leaves += 1
                    rows.append(leaf)
                    cols.append(n_features)
                    vals.append(float(root["internal_value"]))
                    for feature, delta in path:
                        rows.append(leaf)
                        cols.append(feature)
                        vals.append(delta)
                    continue
                value = float(node["internal_value"])
                for side in ("left_child", "right_child"):
                    child = node[side]
                    child_value = float(
                        child["leaf_value"] if "leaf_index" in child else child["internal_value"]
                    )
                    step = (int(node["split_feature"]), child_value - value)
                    stack.append((child, [*path, step]))
            base += n_leaves
        table = sparse.csr_matrix(
            (np.asarray(vals), (np.asarray(rows), np.asarray(cols))),
            shape=(base, n_features + 1),
        )
        self._path_cache = (table, np.asarray(offsets, dtype=np.int64))
        return self._path_cache

    # serialisation -------------------------------------------------------------------

    def to_artifacts(self) -> dict[str, bytes]:
        """The model as named files (JSON + LightGBM text), ready for a blob store."""
        manifest = _Manifest(
            format_version=FORMAT_VERSION,
            kind=self.kind,
            config=self.config.to_dict(),
            preprocessor=self.preprocessor,
            calibrator=self.calibrator,
            threshold=self.threshold,
            metrics=self.metrics,
        )
        out = {MANIFEST: manifest.model_dump_json(indent=1).encode()}
        if self.booster is not None:
            out[BOOSTER] = self.booster.model_to_string().encode()
        elif self.logistic is not None:
            out[LOGISTIC] = self.logistic.model_dump_json().encode()
        return out

    @classmethod
    def from_artifacts(cls, artifacts: dict[str, bytes]) -> TrainedModel:
        """Rebuild a model from :meth:`to_artifacts` output.

        Raises:
            InvalidInputError: a file is missing or malformed, or the estimator does not
                match the feature list.
        """
        hint = "the model bundle is damaged or from another tool; register the model again"
        if MANIFEST not in artifacts:
            raise InvalidInputError(
                f"model bundle has no {MANIFEST} (files: {sorted(artifacts)})", hint=hint
            )
        try:
            manifest = _Manifest.model_validate_json(artifacts[MANIFEST])
            config = AdherenceConfig.model_validate(manifest.config)
        except (ValidationError, ValueError) as exc:
            raise InvalidInputError(
                f"model bundle {MANIFEST} is malformed: {exc}", hint=hint
            ) from None
        pre = manifest.preprocessor
        model = cls(
            config=config,
            preprocessor=pre,
            kind=manifest.kind,
            calibrator=manifest.calibrator,
            threshold=manifest.threshold,
            metrics=manifest.metrics,
        )
        n_features = len(pre.feature_names)
        if manifest.kind == "lightgbm":
            if BOOSTER not in artifacts:
                raise InvalidInputError(f"model bundle has no {BOOSTER}", hint=hint)
            try:
                text = artifacts[BOOSTER].decode("utf-8")
                booster = lgb.Booster(model_str=text)
            except (UnicodeDecodeError, lgb.basic.LightGBMError, ValueError) as exc:
                raise InvalidInputError(
                    f"{BOOSTER} is not a LightGBM model: {exc}", hint=hint
                ) from None
            if booster.num_feature() != n_features:
                raise InvalidInputError(
                    f"{BOOSTER} expects {booster.num_feature()} features, the manifest "
                    f"lists {n_features}",
                    hint=hint,
                )
            model.booster = booster
        else:
            if LOGISTIC not in artifacts:
                raise InvalidInputError(f"model bundle has no {LOGISTIC}", hint=hint)
            try:
                state = LogisticState.model_validate_json(artifacts[LOGISTIC])
            except ValidationError as exc:
                raise InvalidInputError(f"{LOGISTIC} is malformed: {exc}", hint=hint) from None
            sizes = [len(pre.levels[c]) for c in pre.categorical]
            if (
                len(state.numeric_coef) != len(pre.numeric)
                or [len(c) for c in state.categorical_coef] != sizes
            ):
                raise InvalidInputError(
                    f"{LOGISTIC} coefficients do not match the manifest's features", hint=hint
                )
            model.logistic = state
        return model
