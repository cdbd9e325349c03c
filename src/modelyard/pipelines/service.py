"""Training and inference pipelines: the adherence use case end to end, as tracked runs.

Training: load + validate → preprocess → split (patient-grouped, seeded) → train → evaluate
(the held-out patients, touched once) → baseline → register. Inference: resolve the model
version → load it (checksums verified) → read the batch → predict with the preprocessing
stored at training time → drift check against the version's baseline → store the results.

Every pipeline run is a tracked run (its run id is the tracking run id) and logs each step's
start, end, duration and failure as it happens (``PipelineLog``). Only the last step makes
anything visible, in one write each (the registry's conditional version write; the results
record), so a failed run leaves no half-registered model and no partial results.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from modelyard.access import AccessGuard
from modelyard.alerts.model import AlarmDefinition
from modelyard.alerts.service import AlarmService
from modelyard.datasets import DatasetService
from modelyard.errors import (
    AlreadyExistsError,
    InvalidInputError,
    ModelVersionNotFoundError,
    NotFoundError,
)
from modelyard.features.model import FeaturePin
from modelyard.pipelines.config import DataSource, InferenceConfig, TrainingConfig
from modelyard.pipelines.log import PipelineLog, StepEvent
from modelyard.pipelines.runner import Context, Step, run_steps
from modelyard.quality.drift import DriftConfig
from modelyard.quality.monitoring import build_baseline
from modelyard.quality.service import MonitorService
from modelyard.registry import RegistryService
from modelyard.registry.model import FEATURE_PINS_TAG
from modelyard.storage.blobs import BlobRef, ContentStore, sha256_file
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, RecordStore
from modelyard.tracking import TrackingService

if TYPE_CHECKING:
    from modelyard.adherence import TrainedModel
    from modelyard.adherence.store import PatientHistoryStore, PublishResult
    from modelyard.features.service import FeatureService

__all__ = ["InferenceResult", "PipelineRun", "PipelineService", "TrainingResult"]

ID_COLUMNS = ("encounter_id", "patient_nbr")
CODE_COLUMNS = ("admission_type_id", "discharge_disposition_id", "admission_source_id")
StepCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PipelineRun:
    """A pipeline run: what ran, on what, and how it ended."""

    run_id: str
    kind: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    config: Mapping[str, Any]
    result: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "config": dict(self.config),
            "result": dict(self.result),
            "error": self.error,
        }


@dataclass(frozen=True)
class TrainingResult:
    """What a training run produced."""

    run_id: str
    model: str
    version: int
    dataset: str
    metrics: Mapping[str, Any]
    baseline_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "model": self.model,
            "version": self.version,
            "dataset": self.dataset,
            "metrics": dict(self.metrics),
            "baseline_id": self.baseline_id,
        }


@dataclass(frozen=True)
class InferenceResult:
    """What an inference run stored: the predictions' metadata and the drift verdict."""

    id: str
    run_id: str
    model: str
    model_version: int
    batch_id: str
    input: str
    level: str
    rows_in: int
    rows_out: int
    created_at: datetime
    created_by: str
    output_schema: Mapping[str, str]
    sha256: str
    size_bytes: int
    drift_report_id: str
    dataset_drift: bool
    drift_score: float
    drifted_features: tuple[str, ...]
    flagged_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "model": self.model,
            "model_version": self.model_version,
            "batch_id": self.batch_id,
            "input": self.input,
            "level": self.level,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "output_schema": dict(self.output_schema),
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "drift_report_id": self.drift_report_id,
            "dataset_drift": self.dataset_drift,
            "drift_score": self.drift_score,
            "drifted_features": list(self.drifted_features),
            "flagged_rows": self.flagged_rows,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InferenceResult:
        return cls(
            id=d["id"],
            run_id=d["run_id"],
            model=d["model"],
            model_version=int(d["model_version"]),
            batch_id=d["batch_id"],
            input=d["input"],
            level=d["level"],
            rows_in=int(d["rows_in"]),
            rows_out=int(d["rows_out"]),
            created_at=datetime.fromisoformat(d["created_at"]),
            created_by=d["created_by"],
            output_schema=dict(d["output_schema"]),
            sha256=d["sha256"],
            size_bytes=int(d["size_bytes"]),
            drift_report_id=d["drift_report_id"],
            dataset_drift=bool(d["dataset_drift"]),
            drift_score=float(d["drift_score"]),
            drifted_features=tuple(d["drifted_features"]),
            flagged_rows=int(d["flagged_rows"]),
        )


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = json.dumps(value) if isinstance(value, list | tuple) else str(value)


def _numeric(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)
    }


def monitored_columns(frame: pl.DataFrame, label_column: str) -> list[str]:
    """The input columns drift is checked on: everything but identifiers and the label."""
    skip = {*ID_COLUMNS, "readmitted", label_column}
    return [c for c in frame.columns if c not in skip]


class PipelineService:
    """Runs pipelines, keeps their run records and step logs."""

    def __init__(
        self,
        records: RecordStore,
        content: ContentStore,
        guard: AccessGuard,
        *,
        tracking: TrackingService,
        registry: RegistryService,
        datasets: DatasetService,
        monitor: MonitorService,
        alarms: AlarmService,
        features: FeatureService | None = None,
    ) -> None:
        self._records = records
        self._content = content
        self._guard = guard
        self._tracking = tracking
        self._registry = registry
        self._datasets = datasets
        self._monitor = monitor
        self._alarms = alarms
        self._features = features
        self._models: dict[tuple[str, int], TrainedModel] = {}
        self.log = PipelineLog(records)

    # -- run records ---------------------------------------------------------------------------
    def _start_record(self, run_id: str, kind: str, config: Mapping[str, Any]) -> datetime:
        now = datetime.now(UTC)
        body = {
            "run_id": run_id,
            "kind": kind,
            "status": "running",
            "started_at": now.isoformat(),
            "ended_at": None,
            "config": dict(config),
            "result": {},
            "error": None,
        }
        self._records.transact(
            [
                Put({"pk": "pipelines", "sk": f"{now.isoformat()}#{run_id}", **body}),
                Put({"pk": f"pipeline#{run_id}", "sk": "meta", "started": now.isoformat()}),
            ]
        )
        return now

    def _end_record(
        self,
        run_id: str,
        started: datetime,
        status: str,
        result: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        sk = f"{started.isoformat()}#{run_id}"
        rec = self._records.get("pipelines", sk)
        rec.update(
            status=status,
            ended_at=datetime.now(UTC).isoformat(),
            result=dict(result or {}),
            error=error,
        )
        self._records.put(rec)

    def _run_recorded(
        self,
        steps: list[Step],
        ctx: Context,
        run_id: str,
        started: datetime,
        on_step: StepCallback | None,
    ) -> None:
        """Run the steps; a failure marks the run record failed and propagates."""
        try:
            run_steps(steps, ctx, log=self.log, run_id=run_id, on_step=on_step)
        except BaseException as exc:
            self._end_record(run_id, started, "failed", error=str(exc))
            raise

    @staticmethod
    def _to_run(rec: Mapping[str, Any]) -> PipelineRun:
        return PipelineRun(
            run_id=rec["run_id"],
            kind=rec["kind"],
            status=rec["status"],
            started_at=datetime.fromisoformat(rec["started_at"]),
            ended_at=datetime.fromisoformat(rec["ended_at"]) if rec.get("ended_at") else None,
            config=rec.get("config", {}),
            result=rec.get("result", {}),
            error=rec.get("error"),
        )

    def list_runs(self, *, limit: int | None = 50) -> list[PipelineRun]:
        """Pipeline runs, newest first."""
        self._guard.check("pipelines.read", "pipeline/*")
        return [
            self._to_run(r) for r in self._records.query("pipelines", reverse=True, limit=limit)
        ]

    def get_run(self, run_id: str) -> PipelineRun:
        """One pipeline run.

        Raises:
            NotFoundError: no pipeline run with this id.
        """
        if not isinstance(run_id, str) or not run_id.isalnum():
            raise InvalidInputError(f"run id {run_id!r} is not valid (hex letters and digits)")
        self._guard.check("pipelines.read", f"pipeline/{run_id}")
        meta = self._records.find(f"pipeline#{run_id}", "meta")
        if meta is None:
            raise NotFoundError(
                f"no pipeline run {run_id!r}", hint="run `modelyard pipelines list`"
            )
        return self._to_run(self._records.get("pipelines", f"{meta['started']}#{run_id}"))

    def logs(self, run_id: str, *, after: int = 0) -> list[StepEvent]:
        """The step events of a run so far."""
        self.get_run(run_id)
        return self.log.events(run_id, after=after)

    def follow(self, run_id: str, *, timeout_s: float | None = None) -> Iterator[StepEvent]:
        """Yield step events as they happen until the run ends."""
        self.get_run(run_id)
        return self.log.follow(run_id, timeout_s=timeout_s)

    # -- data ----------------------------------------------------------------------------------
    def _load(self, source: DataSource, *, production: bool = False) -> tuple[pl.DataFrame, str]:
        """The frame (coerced to the use case's types) and a reference to what it was."""
        from modelyard.adherence import coerce_frame, load_uci

        if source.path is not None:
            name = source.name
            if name is None:
                return load_uci(source.path), f"file:{source.path}"
            version = self._datasets.add(
                source.path,
                name=name,
                missing_tokens=source.missing_tokens,
                keep_values=source.keep_values,
            )
            source = DataSource(dataset=f"{name}@{version.version}")
        assert source.dataset is not None
        name, _, ver = source.dataset.partition("@")
        resolved = self._datasets.get(name, ver or "latest")
        frame = self._datasets.load(name, resolved.version, production=production)
        return coerce_frame(frame), f"{name}@{resolved.version}"

    def _history_store(self) -> PatientHistoryStore:
        from modelyard.adherence.store import PatientHistoryStore

        if self._features is None:
            raise InvalidInputError(
                "this pipeline service has no feature store, and the adherence config reads "
                "the patient history from it",
                hint="set adherence.features.history: batch, or open the pipelines through a "
                "workspace",
            )
        return PatientHistoryStore(self._features)

    @staticmethod
    def _source_label(source: DataSource, ref: str) -> str:
        """A name for the data that changes when the data does (a dataset version, or the
        sha256 of a file): publishing the same data twice writes nothing the second time."""
        if ref.startswith("file:") and source.path is not None:
            return f"file:sha256:{sha256_file(Path(source.path))}"
        return f"dataset:{ref}"

    def feature_pins(self, model: str, version: int) -> list[FeaturePin]:
        """The feature group versions a model version was trained with (checked against
        the store: a tampered pin raises ConflictError)."""
        mv = self._registry.get(f"{model}@{version}")
        raw = mv.tags.get(FEATURE_PINS_TAG)
        if not raw:
            return []
        if self._features is None:
            raise InvalidInputError(
                f"{model}@{version} reads feature groups, and this pipeline service has no "
                "feature store",
                hint="open the pipelines through a workspace",
            )
        pins = mv.feature_pins
        if not pins:
            raise InvalidInputError(
                f"the {FEATURE_PINS_TAG!r} tag of {model}@{version} is not a list of feature "
                "group pins",
                hint="restore the tag from the version's history (`modelyard models show`)",
            )
        return self._features.resolve_pins(pins)

    def publish_history(self, data: DataSource) -> PublishResult:
        """Publish the patient history of ``data`` to the feature store (and online).

        Its encounters are added to their patients' histories (merged with those published
        before; see :meth:`~modelyard.adherence.store.PatientHistoryStore.publish`); the same
        data published twice in a row writes nothing the second time.
        """
        store = self._history_store()
        frame, ref = self._load(data)
        return store.publish(frame, source=self._source_label(data, ref))

    # -- training ------------------------------------------------------------------------------
    def run_training(
        self, config: TrainingConfig, *, on_step: StepCallback | None = None
    ) -> TrainingResult:
        """Run the training pipeline; return the registered version and its metrics.

        Raises:
            PipelineError: a step failed (``.step`` names it; nothing was registered).
        """
        # the use case (scikit-learn, LightGBM) loads only when a pipeline runs, so listing runs
        # and reading logs stay fast
        from modelyard.adherence import train, training_features
        from modelyard.adherence.evaluation import score_features
        from modelyard.adherence.metrics import encounter_metrics
        from modelyard.adherence.training import patient_split

        validate_name("model", config.model_name)
        validate_name("experiment", config.experiment)
        self._guard.check("pipelines.run", f"pipeline/training/{config.model_name}")
        with contextlib.suppress(AlreadyExistsError):
            self._tracking.create_experiment(config.experiment)
        ac = config.adherence
        from_store = ac.features.history == "feature_store"
        store = self._history_store() if from_store else None
        params: dict[str, str] = {}
        _flatten("", ac.model_dump(mode="json"), params)
        tags = {"pipeline": "training", "model": config.model_name}
        with self._tracking.start_run(config.experiment, params=params, tags=tags) as run:
            run_id = run.run_id
            started = self._start_record(run_id, "training", config.model_dump(mode="json"))
            ctx: Context = {}

            def load_validate(c: Context) -> None:
                c["frame"], c["dataset"] = self._load(config.data, production=config.production)

            def publish_history(c: Context) -> None:
                assert store is not None
                result = store.publish(
                    c["frame"], source=self._source_label(config.data, c["dataset"])
                )
                c["history_pin"] = result.pin
                c["history_published"] = result.to_dict()

            def preprocess(c: Context) -> None:
                history = None
                if store is not None:
                    history = store.point_in_time(c["frame"], c["history_pin"])
                c["features"] = training_features(c["frame"], ac, history=history)

            def split(c: Context) -> None:
                feats = c["features"]
                patients = feats.encounters.get_column("patient_nbr").to_numpy()
                held = patient_split(patients, ac.split.test_fraction, ac.split.seed)
                c["train_features"] = feats.subset(~held)
                c["test_features"] = feats.subset(held)
                train_ids = feats.encounters.filter(pl.Series(~held)).get_column("encounter_id")
                c["train_frame"] = c["frame"].filter(
                    pl.col("encounter_id").is_in(train_ids.implode())
                )

            def fit(c: Context) -> None:
                c["model"] = train(c["train_frame"], ac, features=c["train_features"])

            def evaluate(c: Context) -> None:
                model: TrainedModel = c["model"]
                test = c["test_features"]
                y = test.encounters.get_column("label").to_numpy()
                p = score_features(model, test)
                train_y = c["train_features"].encounters.get_column("label").to_numpy()
                c["test_metrics"] = encounter_metrics(
                    y,
                    p,
                    model.threshold,
                    reference_prevalence=float(train_y.mean()),
                    min_precision=ac.threshold.precision,
                )

            def baseline(c: Context) -> None:
                frame = c["train_frame"]
                cols = monitored_columns(frame, ac.label.column)
                kinds = {col: "categorical" for col in CODE_COLUMNS if col in cols}
                c["baseline"] = build_baseline(frame.select(cols), kinds=kinds)  # type: ignore[arg-type]

            def register(c: Context) -> None:
                model: TrainedModel = c["model"]
                metrics = {
                    **{f"test_{k}": v for k, v in _numeric(c["test_metrics"]).items()},
                    **_numeric(model.metrics),
                }
                run.log_metrics(metrics)
                run.flush()
                baseline_doc = json.dumps(
                    c["baseline"].to_dict(), separators=(",", ":"), allow_nan=False
                ).encode()
                artifacts: dict[str, bytes | Any] = {
                    **model.to_artifacts(),
                    "baseline.json": baseline_doc,
                }
                required = model.input_schema["required"]
                tags = {"use_case": "adherence"}
                if from_store:
                    tags[FEATURE_PINS_TAG] = json.dumps([c["history_pin"].to_dict()])
                mv = self._registry.register(
                    config.model_name,
                    artifacts,
                    framework=model.framework,
                    params=params,
                    metrics=metrics,
                    input_schema=[(k, str(v)) for k, v in required.items()],
                    datasets=[c["dataset"]],
                    run_id=run_id,
                    description=ac.label.description,
                    tags=tags,
                )
                c["version"] = mv.version
                # the baseline is also an artifact of the version, so this index write can
                # always be redone from it; it comes after the version exists
                info = self._monitor.save_baseline(
                    c["baseline"],
                    model=config.model_name,
                    version=mv.version,
                    source=c["dataset"],
                )
                c["baseline_id"] = info.id

            steps = [
                Step("load_validate", load_validate),
                *([Step("publish_history", publish_history)] if from_store else []),
                Step("preprocess", preprocess),
                Step("split", split),
                Step("train", fit),
                Step("evaluate", evaluate),
                Step("baseline", baseline),
                Step("register", register),
            ]
            self._run_recorded(steps, ctx, run_id, started, on_step)
            result = TrainingResult(
                run_id=run_id,
                model=config.model_name,
                version=int(ctx["version"]),
                dataset=ctx["dataset"],
                metrics={
                    "test": ctx["test_metrics"],
                    "validation": {
                        k: v for k, v in ctx["model"].metrics.items() if k.startswith("validation_")
                    },
                    "training_seconds": ctx["model"].metrics.get("training_seconds"),
                },
                baseline_id=ctx["baseline_id"],
            )
            self._end_record(run_id, started, "succeeded", result.to_dict())
            return result

    # -- inference -----------------------------------------------------------------------------
    def load_model(self, name: str, version: int) -> TrainedModel:
        """A registered adherence model (checksums verified), cached: versions never change."""
        from modelyard.adherence import TrainedModel

        key = (name, version)
        model = self._models.get(key)
        if model is None:
            artifacts = self._registry.load_artifacts(name, version)
            artifacts.pop("baseline.json", None)
            model = TrainedModel.from_artifacts(artifacts)
            self._models[key] = model
        return model

    def history_for(self, model: str, version: int, frame: pl.DataFrame) -> pl.DataFrame | None:
        """The patient history a model version reads for new encounters: the online store plus
        the batch's earlier encounters, for a version trained on the feature store; None (the
        history then comes from the batch alone) otherwise."""
        from modelyard.adherence.history import HISTORY_GROUP

        trained = self.load_model(model, version)
        if trained.config.features.history != "feature_store":
            return None
        pins = [p for p in self.feature_pins(model, version) if p.group == HISTORY_GROUP]
        if not pins:
            return None  # trained without a published history: in-batch history
        return self._history_store().for_prediction(frame, pins[0])

    def predict_realtime(
        self,
        ref: str,
        encounters: pl.DataFrame,
        *,
        level: Literal["brand", "encounter"] = "brand",
        risk_factors: bool = True,
    ) -> pl.DataFrame:
        """Score new encounters now: the model's preprocessing, and each patient's history
        read **online** (plus the earlier encounters of the same patient in ``encounters``).

        Nothing is stored and no drift check runs (that is the inference pipeline's job);
        the call is authorized and audited as a read of the model and of the feature group.

        Raises:
            ModelNotFoundError / ModelVersionNotFoundError: ``ref`` does not resolve.
            InvalidInputError: a bad batch (see :func:`modelyard.adherence.predict`).
        """
        from modelyard.adherence import coerce_frame, predict

        name, version = self.resolve(ref)
        self._guard.check("models.read", f"model/{name}@{version}")
        model = self.load_model(name, version)
        frame = coerce_frame(encounters)
        return predict(
            model,
            frame,
            level=level,
            model_version=f"{name}@{version}",
            extra_columns="ignore",
            risk_factors=risk_factors,
            history=self.history_for(name, version, frame),
            coerced=True,  # typed and checked just above
        )

    def resolve(self, ref: str) -> tuple[str, int]:
        """``NAME@V``, ``NAME@latest`` or ``NAME@approved`` (the newest approved version).

        Raises:
            ModelNotFoundError / ModelVersionNotFoundError: nothing matches.
        """
        name, sep, which = ref.partition("@")
        if not sep or which in ("", "latest"):
            mv = self._registry.get(f"{name}@latest")
            return mv.name, mv.version
        if which == "approved":
            approved = [v for v in self._registry.list_versions(name) if v.status == "approved"]
            if not approved:
                raise ModelVersionNotFoundError(
                    f"model {name!r} has no approved version",
                    hint=f"approve one: `modelyard models approve {name}@V --comment ...`",
                )
            best = max(approved, key=lambda v: v.version)
            return best.name, best.version
        mv = self._registry.get(ref)
        return mv.name, mv.version

    def ensure_drift_alarm(self, model: str, version: int, threshold: float) -> str:
        """An alarm on the version's DriftScore (ALARM at or above ``threshold``)."""
        name = f"{model}-v{version}-drift"
        self._alarms.create(
            AlarmDefinition(
                name=name,
                namespace=self._monitor.namespace,
                metric_name="DriftScore",
                threshold=threshold,
                comparison="GreaterThanOrEqualToThreshold",
                statistic="Maximum",
                period_s=60,
                evaluation_periods=1,
                treat_missing_data="notBreaching",
                dimensions={"model": model, "version": str(version)},
                actions={"ALARM": ("log",)},
                description=f"dataset drift score of {model}@{version} batches",
            ),
            replace=True,
        )
        return name

    def run_inference(
        self, config: InferenceConfig, *, on_step: StepCallback | None = None
    ) -> InferenceResult:
        """Run the inference pipeline on one batch; store and return the results' metadata.

        Raises:
            PipelineError: a step failed (``.step`` names it; no results were stored).
        """
        from modelyard.adherence import predict

        batch_id = config.batch_id or datetime.now(UTC).strftime("batch-%Y%m%dT%H%M%S")
        validate_name("batch", batch_id)
        name, version = self.resolve(config.model)
        self._guard.check("pipelines.run", f"pipeline/inference/{name}")
        experiment = f"{name}-inference"
        with contextlib.suppress(AlreadyExistsError):
            self._tracking.create_experiment(experiment)
        tags = {"pipeline": "inference", "model": f"{name}@{version}", "batch": batch_id}
        with self._tracking.start_run(experiment, tags=tags) as run:
            run_id = run.run_id
            started = self._start_record(run_id, "inference", config.model_dump(mode="json"))
            ctx: Context = {}

            def load_model(c: Context) -> None:
                c["model"] = self.load_model(name, version)

            def load_batch(c: Context) -> None:
                c["frame"], c["input"] = self._load(config.data)

            def read_history(c: Context) -> None:
                c["history"] = self.history_for(name, version, c["frame"])

            def predict_step(c: Context) -> None:
                c["predictions"] = predict(
                    c["model"],
                    c["frame"],
                    history=c["history"],
                    level=config.level,
                    model_version=f"{name}@{version}",
                    extra_columns="ignore",
                    risk_factors=config.risk_factors,
                )

            def drift(c: Context) -> None:
                frame = c["frame"]
                model: TrainedModel = c["model"]
                cols = monitored_columns(frame, model.config.label.column)
                if config.alarm_threshold is not None:
                    c["alarm"] = self.ensure_drift_alarm(name, version, config.alarm_threshold)
                c["report"] = self._monitor.check(
                    frame.select(cols),
                    model=name,
                    version=version,
                    batch_id=batch_id,
                    config=DriftConfig(
                        drift_share=config.drift.drift_share, alpha=config.drift.alpha
                    ),
                )

            def store(c: Context) -> None:
                c["result"] = self._store_predictions(
                    c["predictions"],
                    run_id=run_id,
                    model=name,
                    version=version,
                    batch_id=batch_id,
                    source=c["input"],
                    level=config.level,
                    rows_in=c["frame"].height,
                    report=c["report"],
                )
                if config.output:
                    write_predictions(c["predictions"], config.output)
                run.log_metrics(
                    {
                        "rows": float(c["frame"].height),
                        "drift_score": float(c["report"].drift_score),
                        "dataset_drift": 1.0 if c["report"].dataset_drift else 0.0,
                    }
                )

            steps = [
                Step("resolve_load_model", load_model),
                Step("load_batch", load_batch),
                Step("read_history", read_history),
                Step("predict", predict_step),
                Step("drift_check", drift),
                Step("store_results", store),
            ]
            self._run_recorded(steps, ctx, run_id, started, on_step)
            result: InferenceResult = ctx["result"]
            self._end_record(run_id, started, "succeeded", result.to_dict())
            return result

    def _store_predictions(
        self,
        predictions: pl.DataFrame,
        *,
        run_id: str,
        model: str,
        version: int,
        batch_id: str,
        source: str,
        level: str,
        rows_in: int,
        report: Any,
    ) -> InferenceResult:
        buffer = io.BytesIO()
        predictions.write_parquet(buffer)
        ref = self._content.put(buffer.getvalue())
        flagged = (
            int(predictions.get_column("flags").list.len().gt(0).sum())
            if "flags" in predictions.columns and isinstance(predictions.schema["flags"], pl.List)
            else 0
        )
        result = InferenceResult(
            id=uuid.uuid4().hex,
            run_id=run_id,
            model=model,
            model_version=version,
            batch_id=batch_id,
            input=source,
            level=level,
            rows_in=rows_in,
            rows_out=predictions.height,
            created_at=datetime.now(UTC),
            created_by=self._guard.principal.name,
            output_schema={k: str(v) for k, v in predictions.schema.items()},
            sha256=ref.sha256,
            size_bytes=ref.size_bytes,
            drift_report_id=str(report.id),
            dataset_drift=bool(report.dataset_drift),
            drift_score=float(report.drift_score),
            drifted_features=tuple(report.drifted_features),
            flagged_rows=flagged,
        )
        body = result.to_dict()
        self._records.transact(
            [
                Put(
                    {
                        "pk": f"predictions#{model}",
                        "sk": f"{result.created_at.isoformat()}#{result.id}",
                        **body,
                    },
                    if_absent=True,
                ),
                Put({"pk": "predictions#ids", "sk": result.id, **body}, if_absent=True),
            ]
        )
        return result

    def list_predictions(self, model: str, *, limit: int | None = 50) -> list[InferenceResult]:
        """Stored prediction batches of a model, newest first."""
        validate_name("model", model)
        self._guard.check("predictions.read", f"model/{model}")
        return [
            InferenceResult.from_dict(r)
            for r in self._records.query(f"predictions#{model}", reverse=True, limit=limit)
        ]

    def get_predictions(self, result_id: str) -> tuple[InferenceResult, pl.DataFrame]:
        """A stored batch's metadata and its predictions (checksum verified).

        Raises:
            NotFoundError: no stored predictions with this id.
        """
        if not isinstance(result_id, str) or not result_id.isalnum():
            raise InvalidInputError(f"predictions id {result_id!r} is not valid")
        self._guard.check("predictions.read", f"predictions/{result_id}")
        rec = self._records.find("predictions#ids", result_id)
        if rec is None:
            raise NotFoundError(f"no stored predictions {result_id!r}")
        meta = InferenceResult.from_dict(rec)
        data = self._content.get(BlobRef(meta.sha256, meta.size_bytes))
        return meta, pl.read_parquet(io.BytesIO(data))


def write_predictions(frame: pl.DataFrame, out: str) -> None:
    """Write predictions to Parquet, CSV (risk factors as JSON text) or JSON lines."""
    lower = out.lower()
    try:
        if lower.endswith((".parquet", ".pq")):
            frame.write_parquet(out)
        elif lower.endswith((".csv", ".jsonl", ".ndjson")):
            flat = frame.with_columns(
                pl.col(c).map_elements(
                    lambda v: json.dumps(v.to_list() if hasattr(v, "to_list") else v),
                    return_dtype=pl.String,
                )
                for c, t in frame.schema.items()
                if isinstance(t, pl.List | pl.Struct)
            )
            if lower.endswith(".csv"):
                flat.write_csv(out)
            else:
                frame.write_ndjson(out)
        else:
            raise InvalidInputError(
                f"unknown output format for {out!r}", hint="use .parquet, .csv or .jsonl"
            )
    except OSError as exc:
        raise InvalidInputError(f"cannot write {out!r}: {exc.strerror}") from exc
