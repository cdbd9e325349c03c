"""Encounter-level metrics and the decision-threshold rule (pure numpy / scikit-learn)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from modelyard.adherence.config import ThresholdConfig

__all__ = ["choose_threshold", "encounter_metrics", "recall_at_precision"]


def recall_at_precision(y: np.ndarray, p: np.ndarray, min_precision: float) -> float:
    """Highest recall over all thresholds whose precision is at least ``min_precision``."""
    precision, recall, _ = precision_recall_curve(y, p)
    ok = precision[:-1] >= min_precision
    return float(recall[:-1][ok].max()) if ok.any() else 0.0


def choose_threshold(y: np.ndarray, p: np.ndarray, rule: ThresholdConfig) -> tuple[float, bool]:
    """Pick the decision threshold on held-out calibrated probabilities.

    Returns:
        ``(threshold, rule_met)``; see :class:`~modelyard.adherence.config.ThresholdConfig`.
    """
    if rule.rule == "fixed":
        return float(rule.value), True
    y = np.asarray(y)
    if y.sum() == 0 or y.sum() == y.size:
        return 0.5, False
    precision, recall, thresholds = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]
    if rule.rule == "recall_target":
        ok = np.flatnonzero(recall >= rule.recall)
        # thresholds increase, recall decreases: the last qualifying one is the highest.
        return (float(thresholds[ok[-1]]), True) if ok.size else (float(thresholds[0]), False)
    ok = np.flatnonzero(precision >= rule.precision)
    if ok.size:
        best = ok[np.argmax(recall[ok])]
        # among equal recall, prefer the highest threshold (fewest false alarms)
        tied = ok[recall[ok] == recall[best]]
        return float(thresholds[tied.max()]), True
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1))]), False


def encounter_metrics(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    *,
    reference_prevalence: float | None = None,
    min_precision: float = 0.30,
) -> dict[str, Any]:
    """AUC-ROC, PR-AUC, Brier, recall at precision ≥ ``min_precision`` and the operating point.

    ``brier_prevalence`` is the Brier score of always predicting ``reference_prevalence``
    (the training prevalence; the evaluated prevalence if omitted).
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    prevalence = float(y.mean()) if y.size else float("nan")
    ref = prevalence if reference_prevalence is None else reference_prevalence
    both = 0 < y.sum() < y.size
    predicted = p >= threshold
    tp = float((predicted & (y == 1)).sum())
    out: dict[str, Any] = {
        "n_encounters": int(y.size),
        "prevalence": prevalence,
        "auc_roc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "brier": float(np.mean((p - y) ** 2)) if y.size else None,
        "brier_prevalence": float(np.mean((ref - y) ** 2)) if y.size else None,
        f"recall_at_precision_{min_precision:.2f}": (
            recall_at_precision(y, p, min_precision) if both else None
        ),
        "threshold": float(threshold),
        "precision_at_threshold": tp / float(predicted.sum()) if predicted.any() else None,
        "recall_at_threshold": tp / float(y.sum()) if y.sum() else None,
        "flagged_fraction": float(predicted.mean()) if y.size else None,
    }
    return out
