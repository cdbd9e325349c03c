"""Property 51: brand features reach the model; changing only the brand changes the input."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence import TrainedModel, build_features
from modelyard.adherence.features import BRAND_CATEGORICAL
from modelyard.adherence.schema import BRAND_CLASSES, MEDICATION_COLUMNS


def _with_brand(feats, row: int, brand: str):  # type: ignore[no-untyped-def]
    classes = BRAND_CLASSES[brand]
    brands = feats.brands.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(brand))
        .otherwise("brand")
        .alias("brand"),
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(classes[0]))
        .otherwise("brand_class")
        .alias("brand_class"),
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(classes[1] if len(classes) > 1 else ""))
        .otherwise("brand_class_2")
        .alias("brand_class_2"),
    )
    return type(feats)(feats.encounters, brands, feats.numeric, feats.categorical)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), kind=st.sampled_from(["lightgbm", "logistic"]))
def test_p51_brand_specific_feature_incorporation(
    sample: pl.DataFrame, models: dict[str, TrainedModel], data: st.DataObject, kind: str
) -> None:
    model = models[kind]
    feats = build_features(sample.head(300), model.config, with_label=False)
    taken = np.flatnonzero(feats.brands.get_column("brand").to_numpy() != "")
    row = int(data.draw(st.sampled_from(taken.tolist())))
    current = feats.brands.get_column("brand")[row]
    other = data.draw(st.sampled_from([m for m in MEDICATION_COLUMNS if m != current]))
    x0, _ = model.preprocessor.transform(feats)
    x1, _ = model.preprocessor.transform(_with_brand(feats, row, other))
    brand_cols = [model.feature_names.index(c) for c in BRAND_CATEGORICAL]
    differs = ~((x0 == x1) | (np.isnan(x0) & np.isnan(x1)))  # a missing value equals itself
    changed = np.flatnonzero(np.any(differs, axis=0))
    # only this row, only brand columns, and at least the brand itself
    assert np.array_equal(np.flatnonzero(np.any(differs, axis=1)), [row]) or (
        model.preprocessor.levels["brand"].count(current) == 0
        and model.preprocessor.levels["brand"].count(other) == 0
    )
    assert set(changed) <= set(brand_cols)
    if kind == "logistic" and len(changed):
        # a linear model weighs every brand level: the prediction moves
        assert model.raw_score(x0)[row] != model.raw_score(x1)[row]


def test_p51_brand_features_are_used_by_the_trained_model(models: dict[str, TrainedModel]) -> None:
    booster = models["lightgbm"].booster
    assert booster is not None
    used = dict(zip(booster.feature_name(), booster.feature_importance("split"), strict=True))
    for name in ("brand", "brand_class", "brand_class_2", "brand_dose", "n_concurrent_brands"):
        assert name in used  # the brand features are model inputs
    assert (
        sum(
            used[n]
            for n in ("brand", "brand_class", "brand_class_2", "brand_dose", "n_concurrent_brands")
        )
        > 0
    )
