"""The adherence quickstart: the whole platform on the shipped UCI data, offline, in one go.

1. import the UCI diabetes data through the catalog (from the shipped ``file://`` mirror);
2. validate it, look for anomalies and write its profile (HTML);
3. split it by ``encounter_id`` (the only time proxy) into a training period and two later
   "production" batches, and store the training period as its own dataset version;
4. train the adherence model with the training pipeline (a tracked run; the patient history
   is published to the feature store and read point in time), register and approve it;
5. run batch inference on the clean batch and on a copy with an injected shift, each checked
   for drift against the model's baseline, with an alarm on the drift score;
6. score one new encounter of a returning patient in real time (history read online);
7. summarise: metrics, drift verdicts, the alarm's state, where the reports are.

An application-level use case like ``workspace.py``: it composes services, owns none.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from modelyard.pipelines.config import (
    DataSource,
    DriftSettings,
    InferenceConfig,
    TrainingConfig,
)
from modelyard.workspace import Workspace

__all__ = ["CATALOG_ENTRY", "inject_shift", "run_quickstart"]

CATALOG_ENTRY = "uci-diabetes-130"
MODEL = "adherence"
TRAIN_DATASET = "adherence-train"
TRAIN_SHARE = 0.8
# The later encounters drift from the training period on their own (about a third of the
# features, at the default tests); the injected shift moves well over half of them.
DRIFT_SHARE = 0.45
ALARM_THRESHOLD = 0.45
Progress = Callable[[str, int, int], None]


def inject_shift(frame: pl.DataFrame, *, seed: int = 7) -> pl.DataFrame:
    """A copy of ``frame`` with a plausible but large case-mix shift.

    Longer stays, more medications, labs and prior visits, older patients, more abnormal
    HbA1c results and more insulin dose changes: what a new hospital site, a coding change or
    a sicker population would bring. Identifiers are left alone.
    """
    n = frame.height
    older = {"[40-50)": "[60-70)", "[50-60)": "[70-80)", "[60-70)": "[80-90)"}
    coin = pl.Series("coin", pl.int_range(n, eager=True).hash(seed) % 100)
    return frame.with_columns(
        pl.when(coin < 60)
        .then(pl.lit(1))
        .otherwise(pl.col("admission_type_id"))
        .cast(frame.schema["admission_type_id"])
        .alias("admission_type_id"),
        pl.when(coin < 60)
        .then(pl.lit(7))
        .otherwise(pl.col("admission_source_id"))
        .cast(frame.schema["admission_source_id"])
        .alias("admission_source_id"),
        pl.when(coin < 40)
        .then(pl.lit(">300"))
        .otherwise(pl.col("max_glu_serum"))
        .alias("max_glu_serum"),
        pl.when(coin < 40).then(pl.lit("Up")).otherwise(pl.col("metformin")).alias("metformin"),
        pl.lit("Yes").alias("diabetesMed"),
        (pl.col("time_in_hospital") * 2).clip(1, 14),
        (pl.col("num_medications") + 12),
        (pl.col("num_lab_procedures") + 25),
        (pl.col("num_procedures") + 2).clip(0, 6),
        (pl.col("number_inpatient") + 3),
        (pl.col("number_emergency") + 2),
        (pl.col("number_outpatient") + 2),
        (pl.col("number_diagnoses") + 3).clip(1, 16),
        pl.col("age").replace(older),
        pl.when(coin < 60).then(pl.lit(">8")).otherwise(pl.col("A1Cresult")).alias("A1Cresult"),
        pl.when(coin < 50).then(pl.lit("Up")).otherwise(pl.col("insulin")).alias("insulin"),
        pl.when(coin < 70).then(pl.lit("Ch")).otherwise(pl.col("change")).alias("change"),
    )


def run_quickstart(ws: Workspace, *, on_progress: Progress | None = None) -> dict[str, Any]:
    """Run the quickstart in ``ws`` (initialised if new); return the summary.

    Reports (HTML) are written under ``<home>/reports/``.
    """
    started = time.perf_counter()
    total = 9
    timings: dict[str, float] = {}

    def stage(name: str, index: int) -> None:
        timings[name] = round(time.perf_counter() - started, 2)
        if on_progress is not None:
            on_progress(name, index, total)

    ws.init()
    reports = ws.settings.home / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    work = ws.settings.home / "quickstart"
    work.mkdir(parents=True, exist_ok=True)

    stage("import UCI data from the catalog", 0)
    imported = ws.catalog.import_(CATALOG_ENTRY)
    dataset = imported.version

    stage("validate, profile and look for anomalies", 1)
    violations = ws.datasets.validate_version(dataset.name, dataset.version)
    anomalies = ws.datasets.anomalies(dataset.name, dataset.version)
    profile_path = reports / f"profile-{dataset.name}-v{dataset.version}.html"
    profile_path.write_text(ws.datasets.profile_html(dataset.name, dataset.version))

    stage("split by encounter_id into training and production batches", 2)
    frame = ws.datasets.load(dataset.name, dataset.version).sort("encounter_id")
    n_train = int(frame.height * TRAIN_SHARE)
    n_batch = (frame.height - n_train) // 2
    training = frame.head(n_train)
    clean = frame.slice(n_train, n_batch)
    shifted = inject_shift(frame.slice(n_train + n_batch, n_batch))
    with tempfile.TemporaryDirectory(prefix="modelyard-qs-") as scratch:
        train_file = Path(scratch) / "adherence-train.parquet"
        training.write_parquet(train_file)
        train_version = ws.datasets.add(
            train_file,
            name=TRAIN_DATASET,
            description=f"encounters of {dataset.name}@{dataset.version} before the "
            f"{TRAIN_SHARE:.0%} encounter_id cut-off (training period)",
            source=f"{dataset.name}@{dataset.version}",
        )
    clean_path = work / "batch-clean.parquet"
    shifted_path = work / "batch-shifted.parquet"  # the next encounters, case mix shifted
    clean.write_parquet(clean_path)
    shifted.write_parquet(shifted_path)

    stage("train, evaluate and register the adherence model", 3)
    trained = ws.pipelines.run_training(
        TrainingConfig(
            model_name=MODEL,
            experiment=MODEL,
            data=DataSource(dataset=f"{TRAIN_DATASET}@{train_version.version}"),
        )
    )

    stage("approve the model version", 4)
    approved = ws.registry.approve(
        MODEL, trained.version, comment="quickstart: cleared the held-out evaluation"
    )

    batches: list[dict[str, Any]] = []
    for index, (batch_id, path) in enumerate(
        (("clean", clean_path), ("shifted", shifted_path)), start=5
    ):
        stage(f"batch inference and drift check: {batch_id}", index)
        out_path = work / f"predictions-{batch_id}.parquet"
        result = ws.pipelines.run_inference(
            InferenceConfig(
                model=f"{MODEL}@approved",
                data=DataSource(path=str(path)),
                batch_id=batch_id,
                level="brand",
                alarm_threshold=ALARM_THRESHOLD,
                drift=DriftSettings(drift_share=DRIFT_SHARE),
                output=str(out_path),
            )
        )
        html_path = reports / f"drift-{batch_id}.html"
        html_path.write_text(ws.monitor.get_report_html(result.drift_report_id))
        alarm_name = f"{MODEL}-v{trained.version}-drift"
        alarm = ws.alarms.get(alarm_name)
        batches.append(
            {
                "batch_id": batch_id,
                "encounters": result.rows_in,
                "predictions": result.rows_out,
                "dataset_drift": result.dataset_drift,
                "drift_score": round(result.drift_score, 4),
                "drifted_features": list(result.drifted_features),
                "alarm": {"name": alarm_name, "state": alarm.get("state")},
                "drift_report_html": str(html_path),
                "predictions_file": str(out_path),
                "predictions_id": result.id,
            }
        )

    stage("real-time scoring: a returning patient, history read online", 7)
    realtime = _score_returning_patient(ws, clean, training, trained.version)

    stage("summary", 8)
    test = trained.metrics["test"]
    summary: dict[str, Any] = {
        "workspace": str(ws.settings.home),
        "dataset": {
            "name": dataset.name,
            "version": dataset.version,
            "rows": dataset.rows,
            "columns": dataset.columns,
            "downloaded": imported.downloaded,
            "retrieved_from": imported.retrieved_from,
            "schema_violations": len(violations),
            "anomalies": len(anomalies),
            "profile_html": str(profile_path),
        },
        "training_dataset": f"{TRAIN_DATASET}@{train_version.version}",
        "model": {
            "name": MODEL,
            "version": trained.version,
            "status": str(getattr(approved.status, "value", approved.status)),
            "run_id": trained.run_id,
            "test_metrics": {
                k: test.get(k)
                for k in (
                    "auc_roc",
                    "pr_auc",
                    "prevalence",
                    "brier",
                    "brier_prevalence",
                    "recall_at_precision_0.30",
                    "threshold",
                    "precision_at_threshold",
                    "recall_at_threshold",
                )
            },
        },
        "feature_store": _history_summary(ws, trained.version),
        "realtime": realtime,
        "batches": batches,
        "seconds": round(time.perf_counter() - started, 1),
        "timings_s": timings,
        "next": [
            f"modelyard models show {MODEL}@{trained.version}",
            f"modelyard pipelines logs {trained.run_id}",
            "modelyard monitor reports --json",
            f"modelyard alarms history {MODEL}-v{trained.version}-drift",
            f"modelyard datasets used-by {TRAIN_DATASET}@{train_version.version}",
            f"modelyard features get adherence_patient_history {realtime['patient_nbr']}",
            "modelyard audit verify",
        ],
    }
    return summary


def _history_summary(ws: Workspace, version: int) -> dict[str, Any]:
    """The feature group the model read its patient history from."""
    pins = ws.pipelines.feature_pins(MODEL, version)
    if not pins:
        return {}
    pin = pins[0]
    ingestions = ws.features.ingestions(pin.group, pin.version)
    return {
        "group": pin.group,
        "version": pin.version,
        "snapshots": sum(i.rows for i in ingestions),
        "sources": [i.source for i in ingestions],
    }


def _score_returning_patient(
    ws: Workspace, batch: pl.DataFrame, training: pl.DataFrame, version: int
) -> dict[str, Any]:
    """Score one new encounter of a patient seen in the training period, as a real-time
    request would: the patient's history comes from the online store, not from the request."""
    seen = training.get_column("patient_nbr").implode()
    returning = batch.filter(pl.col("patient_nbr").is_in(seen)).head(1)
    if returning.height == 0:
        returning = batch.head(1)
    ref = f"{MODEL}@{version}"
    ws.pipelines.predict_realtime(ref, returning, level="encounter")  # loads the model
    began = time.perf_counter()
    out = ws.pipelines.predict_realtime(ref, returning, level="encounter")
    ms = (time.perf_counter() - began) * 1e3
    row = out.row(0, named=True)
    prior = training.filter(pl.col("patient_nbr") == row["patient_nbr"]).height
    return {
        "encounter_id": row["encounter_id"],
        "patient_nbr": row["patient_nbr"],
        "earlier_encounters_in_store": prior,
        "probability": round(row["probability"], 4),
        "label": row["label"],
        "top_risk_factors": [f["feature"] for f in row["risk_factors"][:3]],
        "milliseconds": round(ms, 1),
    }
