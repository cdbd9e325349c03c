"""Probability calibration stored as data (JSON), never as a pickled object.

A calibrator maps a model's raw score (log-odds margin) to a calibrated probability:
``platt`` is a two-parameter logistic curve (keeps the ranking, so AUC is unchanged);
``isotonic`` is a monotone step function stored as its breakpoints and applied by linear
interpolation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

__all__ = ["Calibrator", "fit_calibrator"]


class Calibrator(BaseModel):
    """Raw score → calibrated probability in [0, 1]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["platt", "isotonic"]
    slope: float = 1.0
    intercept: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Calibrator:
        if self.method == "isotonic":
            if len(self.x) < 1 or len(self.x) != len(self.y):
                raise ValueError("isotonic calibrator needs equal, non-empty x and y")
            if any(b < a for a, b in zip(self.x, self.x[1:], strict=False)):
                raise ValueError("isotonic calibrator x must be sorted")
            if any(not 0.0 <= v <= 1.0 for v in self.y):
                raise ValueError("isotonic calibrator y must lie in [0, 1]")
        if not (np.isfinite(self.slope) and np.isfinite(self.intercept)):
            raise ValueError("platt calibrator parameters must be finite")
        return self

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "platt":
            z = np.clip(self.slope * raw + self.intercept, -500.0, 500.0)
            out = 1.0 / (1.0 + np.exp(-z))
        else:
            out = np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        # NaN raw scores cannot come from the models here; clip guards float round-off.
        return np.clip(out, 0.0, 1.0)


def fit_calibrator(
    raw: np.ndarray, y: np.ndarray, method: Literal["platt", "isotonic"]
) -> Calibrator:
    """Fit a calibrator on held-out raw scores ``raw`` and 0/1 labels ``y``."""
    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if method == "platt":
        if np.unique(y).size < 2:
            return Calibrator(method="platt", slope=0.0, intercept=_logit(float(y.mean())))
        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(raw.reshape(-1, 1), y)
        return Calibrator(
            method="platt", slope=float(lr.coef_[0, 0]), intercept=float(lr.intercept_[0])
        )
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(raw, y)
    return Calibrator(
        method="isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))
