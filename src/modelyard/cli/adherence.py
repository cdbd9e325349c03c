"""``modelyard adherence train|predict|score|publish-history``: the adherence use case."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from modelyard.cli.output import JsonOpt, console, emit, progress, table, workspace
from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.adherence import LabelConfig

app = typer.Typer(help="30-day medication non-adherence risk (UCI diabetes).", no_args_is_help=True)


def _label_config(path: Path) -> LabelConfig:
    from modelyard.adherence import AdherenceConfig

    if not path.is_file():
        raise InvalidInputError(f"label config {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"label config {str(path)!r} is not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "label" in data:
        data = data["label"]
    try:
        return AdherenceConfig.from_dict({"label": data}).label
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"label config {str(path)!r}: {exc.message}", hint=exc.hint
        ) from exc


def _dataset_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "adherence-data"
    return name[:100] if name[0].isalnum() else f"d{name}"[:100]


def _with_progress(as_json: bool, title: str, work: Any) -> Any:
    with progress(as_json) as bar:
        task = bar.add_task(title, total=None)

        def on_step(name: str, index: int, total: int) -> None:
            bar.update(task, description=f"{title}: {name}", completed=index, total=total)

        return work(on_step)


@app.command("train")
def train(
    data: Annotated[Path, typer.Option("--data", help="UCI-shaped CSV / zip / Parquet.")],
    label_config: Annotated[
        Path | None, typer.Option("--label-config", help="YAML with the label definition.")
    ] = None,
    model_name: Annotated[str, typer.Option("--model-name")] = "adherence",
    model_type: Annotated[str, typer.Option("--model-type", help="lightgbm or logistic")] = (
        "lightgbm"
    ),
    history: Annotated[
        str,
        typer.Option(
            "--history",
            help="feature-store: publish the patient history to the feature store and train "
            "on point-in-time reads of it; batch: compute it from --data alone",
        ),
    ] = "feature-store",
    as_json: JsonOpt = False,
) -> None:
    """Train, evaluate and register the adherence model; print metrics and the version."""
    from modelyard.adherence import AdherenceConfig
    from modelyard.pipelines.config import DataSource, TrainingConfig

    if not data.is_file():
        raise InvalidInputError(f"no data file at {str(data)!r}", hint="pass --data PATH")
    if history not in ("feature-store", "batch"):
        raise InvalidInputError(
            f"--history must be feature-store or batch, got {history!r}",
            hint="leave it out to use the feature store",
        )
    overrides: dict[str, Any] = {
        "model": {"type": model_type},
        "features": {"history": history.replace("-", "_")},
    }
    if label_config is not None:
        overrides["label"] = _label_config(label_config).model_dump(mode="json")
    config = TrainingConfig(
        model_name=model_name,
        experiment=model_name,
        data=DataSource(path=str(data), name=_dataset_name(data)),
        adherence=AdherenceConfig.from_dict(overrides),
    )
    ws = workspace(create=True)
    result = _with_progress(
        as_json, "training", lambda cb: ws.pipelines.run_training(config, on_step=cb)
    )

    def render(r: Any) -> None:
        console.print(f"registered [bold]{r.model}@{r.version}[/bold] (run {r.run_id})")
        test = r.metrics["test"]
        table(
            "held-out patients (encounter level)",
            ["metric", "value"],
            [[k, f"{v:.4f}" if isinstance(v, float) else v] for k, v in test.items()],
        )

    emit(result, as_json, render)


@app.command("predict")
def predict(
    model: Annotated[str, typer.Option("--model", help="NAME@V, NAME@latest, NAME@approved")],
    data: Annotated[Path, typer.Option("--data", help="encounters to score")],
    out: Annotated[Path, typer.Option("--out", help="output file: .parquet, .csv or .jsonl")],
    level: Annotated[str, typer.Option("--level", help="brand or encounter")] = "brand",
    batch_id: Annotated[str | None, typer.Option("--batch-id")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a batch: one row per (encounter, brand), drift-checked, stored and written."""
    from modelyard.pipelines.config import DataSource, InferenceConfig

    if level not in ("brand", "encounter"):
        raise InvalidInputError(f"--level must be brand or encounter, got {level!r}")
    if not data.is_file():
        raise InvalidInputError(f"no data file at {str(data)!r}", hint="pass --data PATH")
    config = InferenceConfig(
        model=model,
        data=DataSource(path=str(data)),
        batch_id=batch_id,
        level=level,  # type: ignore[arg-type]
        output=str(out),
    )
    ws = workspace(create=True)
    result = _with_progress(
        as_json, "inference", lambda cb: ws.pipelines.run_inference(config, on_step=cb)
    )

    def render(r: Any) -> None:
        console.print(
            f"{r.rows_out} predictions for {r.rows_in} encounters by {r.model}@{r.model_version}"
            f" written to {out}"
        )
        verdict = "DRIFT" if r.dataset_drift else "no dataset drift"
        console.print(
            f"drift check: {verdict} (score {r.drift_score:.3f}), report {r.drift_report_id}"
        )

    emit(result, as_json, render)


@app.command("score")
def score(
    model: Annotated[str, typer.Option("--model", help="NAME@V, NAME@latest, NAME@approved")],
    data: Annotated[Path, typer.Option("--data", help="new encounters (CSV / Parquet)")],
    level: Annotated[str, typer.Option("--level", help="brand or encounter")] = "encounter",
    risk_factors: Annotated[
        bool, typer.Option("--risk-factors/--no-risk-factors", help="top-5 contributions")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Real-time scoring of new encounters: patient history read from the online store.

    Nothing is stored and no drift check runs (use `adherence predict` for a batch).
    """
    from modelyard.adherence import load_uci

    if level not in ("brand", "encounter"):
        raise InvalidInputError(f"--level must be brand or encounter, got {level!r}")
    if not data.is_file():
        raise InvalidInputError(f"no data file at {str(data)!r}", hint="pass --data PATH")
    ws = workspace()
    frame = load_uci(data)
    out = ws.pipelines.predict_realtime(
        model,
        frame,
        level=level,  # type: ignore[arg-type]
        risk_factors=risk_factors,
    )
    rows = out.to_dicts()
    result = {"model": rows[0]["model_version"], "level": level, "predictions": rows}

    def render(doc: dict[str, Any]) -> None:
        r = doc["predictions"]
        cols = ["encounter_id", "patient_nbr", *(["brand"] if level == "brand" else [])]
        table(
            f"{len(r)} predictions by {doc['model']}",
            [*cols, "probability", "label", "top risk factor"],
            [
                [
                    *(row[c] for c in cols),
                    f"{row['probability']:.3f}",
                    row["label"],
                    (row["risk_factors"][0]["feature"] if row["risk_factors"] else ""),
                ]
                for row in r
            ],
        )

    emit(result, as_json, render)


@app.command("publish-history")
def publish_history(
    data: Annotated[
        Path | None, typer.Option("--data", help="UCI-shaped CSV / zip / Parquet")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="a stored dataset: NAME, NAME@V, NAME@latest")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish the patient history of encounters to the feature store (offline and online).

    New encounters are added to their patients' histories (an encounter published again is
    corrected); publishing the same data twice in a row writes nothing the second time.
    """
    from modelyard.pipelines.config import DataSource

    if (data is None) == (dataset is None):
        raise InvalidInputError(
            "give exactly one of --data FILE or --dataset NAME@V",
            hint="e.g. modelyard adherence publish-history --dataset uci-diabetes-130@latest",
        )
    if data is not None and not data.is_file():
        raise InvalidInputError(f"no data file at {str(data)!r}", hint="pass --data PATH")
    source = (
        DataSource(path=str(data), name=_dataset_name(data))
        if data is not None
        else DataSource(dataset=dataset)
    )
    ws = workspace(create=True)
    result = ws.pipelines.publish_history(source)

    def render(r: Any) -> None:
        what = "published" if r.ingestion is not None else "already published (nothing written)"
        console.print(
            f"{r.pin.ref}: {r.encounters:,} encounters -> {r.snapshots:,} history snapshots, {what}"
        )
        if r.materialization is not None:
            console.print(
                f"online: {r.materialization.entities_written:,} patients updated "
                f"({r.materialization.seconds:.2f} s)"
            )

    emit(result, as_json, render)
