"""The medication non-adherence risk use case on the UCI "Diabetes 130-US hospitals" data.

Pure library code, wired into pipelines, the registry and ``modelyard quickstart`` elsewhere::

    from modelyard.adherence import AdherenceConfig, load_uci, train, predict, TrainedModel

    frame = load_uci("diabetes+130-us+hospitals+for+years+1999-2008.zip")
    model = train(frame, AdherenceConfig())          # model.metrics, model.input_schema
    files = model.to_artifacts()                      # {"manifest.json": b"...", ...}
    model = TrainedModel.from_artifacts(files)
    out = predict(model, frame, level="brand", model_version="3")

See docs/adherence.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelyard.adherence.config import (
        AdherenceConfig,
        CalibrationConfig,
        FeatureConfig,
        LabelConfig,
        LightGBMParams,
        LogisticParams,
        ModelConfig,
        SplitConfig,
        ThresholdConfig,
        label_series,
    )
    from modelyard.adherence.data import check_batch, coerce_frame, load_uci
    from modelyard.adherence.evaluation import evaluate
    from modelyard.adherence.features import FeatureFrame, build_features
    from modelyard.adherence.model import TrainedModel, input_schema
    from modelyard.adherence.prediction import (
        BRAND_OUTPUT_SCHEMA,
        ENCOUNTER_OUTPUT_SCHEMA,
        predict,
        predict_proba,
    )
    from modelyard.adherence.training import train, training_features

# Submodules load on first use (PEP 562): importing the package, or its config, does not
# pull in scikit-learn and LightGBM until a model is trained or used.
_WHERE = {
    "AdherenceConfig": "modelyard.adherence.config",
    "BRAND_OUTPUT_SCHEMA": "modelyard.adherence.prediction",
    "CalibrationConfig": "modelyard.adherence.config",
    "ENCOUNTER_OUTPUT_SCHEMA": "modelyard.adherence.prediction",
    "FeatureConfig": "modelyard.adherence.config",
    "FeatureFrame": "modelyard.adherence.features",
    "LabelConfig": "modelyard.adherence.config",
    "LightGBMParams": "modelyard.adherence.config",
    "LogisticParams": "modelyard.adherence.config",
    "ModelConfig": "modelyard.adherence.config",
    "SplitConfig": "modelyard.adherence.config",
    "ThresholdConfig": "modelyard.adherence.config",
    "TrainedModel": "modelyard.adherence.model",
    "build_features": "modelyard.adherence.features",
    "check_batch": "modelyard.adherence.data",
    "coerce_frame": "modelyard.adherence.data",
    "evaluate": "modelyard.adherence.evaluation",
    "input_schema": "modelyard.adherence.model",
    "label_series": "modelyard.adherence.config",
    "load_uci": "modelyard.adherence.data",
    "predict": "modelyard.adherence.prediction",
    "predict_proba": "modelyard.adherence.prediction",
    "train": "modelyard.adherence.training",
    "training_features": "modelyard.adherence.training",
}


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'modelyard.adherence' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


__all__ = [
    "BRAND_OUTPUT_SCHEMA",
    "ENCOUNTER_OUTPUT_SCHEMA",
    "AdherenceConfig",
    "CalibrationConfig",
    "FeatureConfig",
    "FeatureFrame",
    "LabelConfig",
    "LightGBMParams",
    "LogisticParams",
    "ModelConfig",
    "SplitConfig",
    "ThresholdConfig",
    "TrainedModel",
    "build_features",
    "check_batch",
    "coerce_frame",
    "evaluate",
    "input_schema",
    "label_series",
    "load_uci",
    "predict",
    "predict_proba",
    "train",
    "training_features",
]
