"""``modelyard models register|list|versions|show|approve|reject|archive|compare|lineage|…``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, table, workspace
from modelyard.errors import InvalidInputError
from modelyard.registry import ModelVersion, VersionRef
from modelyard.registry.model import DatasetRef
from modelyard.tracking.model import parse_assignments, parse_metric_assignments

app = typer.Typer(
    help="The model registry: versions, approvals, comparison, lineage.", no_args_is_help=True
)

RefArg = Annotated[str, typer.Argument(metavar="NAME@V", help="Model and version, e.g. churn@3.")]
CommentOpt = Annotated[str, typer.Option("--comment", "-m", help="Why (recorded in history).")]


def _ref(text: str, *, allow_latest: bool = True) -> VersionRef:
    ref = VersionRef.parse(text)
    if ref.version is None and not allow_latest:
        raise InvalidInputError(
            f"{text!r}: name the version explicitly for this command",
            hint="write NAME@NUMBER, e.g. churn@3",
        )
    return ref


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _show_version(mv: ModelVersion) -> None:
    console.print(f"[bold]{mv.name}@{mv.version}[/bold]  {mv.status.value}  ({mv.framework})")
    console.print(f"  created {mv.created_at.isoformat(timespec='seconds')} by {mv.created_by}")
    console.print(f"  run {mv.run_id or '-'}   code {mv.code_version or '-'}")
    if mv.datasets:
        console.print("  datasets " + ", ".join(str(d) for d in mv.datasets))
    if mv.approval is not None:
        a = mv.approval
        console.print(
            f"  {a.decision.value} by {a.by} at {a.at.isoformat(timespec='seconds')}: {a.comment}"
        )
    rows: list[list[Any]] = [["param", k, v] for k, v in sorted(mv.params.items())]
    rows += [["metric", k, _fmt(v)] for k, v in sorted(mv.metrics.items())]
    rows += [["column", c, t] for c, t in mv.input_schema]
    rows += [["tag", k, v] for k, v in sorted(mv.tags.items())]
    rows += [["artifact", a.name, f"sha256 {a.sha256}  {a.size_bytes} bytes"] for a in mv.artifacts]
    table("", ["kind", "key", "value"], rows)


@app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Model name (letters, digits, . _ -).")],
    artifact: Annotated[
        list[Path], typer.Option("--artifact", "-a", help="A model file (repeatable).")
    ],
    framework: Annotated[str, typer.Option(help="e.g. lightgbm, sklearn.")] = "unknown",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="KEY=VALUE (repeatable).")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="KEY=NUMBER (repeatable).")
    ] = None,
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="NAME@V used (repeatable).")
    ] = None,
    run: Annotated[str | None, typer.Option("--run", help="The run that produced it.")] = None,
    column: Annotated[
        list[str] | None, typer.Option("--column", help="Input column NAME:TYPE (repeatable).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE (repeatable).")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Register a new version (pending approval); artifacts are stored with sha256."""
    params = parse_assignments(param, "param") if param else None
    metrics = parse_metric_assignments(metric) if metric else None
    tags = parse_assignments(tag or [], "tag")
    schema: list[tuple[str, str]] = []
    for item in column or []:
        col, sep, kind = item.rpartition(":")
        if not sep or not col or not kind:
            raise InvalidInputError(
                f"--column {item!r} is not NAME:TYPE", hint="write e.g. --column age:int64"
            )
        schema.append((col, kind))
    if dataset:
        for ref in dataset:
            if "@" not in ref:
                DatasetRef.parse(ref)  # the standard error for a missing version
    ws = workspace()
    mv = ws.registry.register(
        name,
        artifact,
        framework=framework,
        params=params,
        metrics=metrics,
        input_schema=schema,
        datasets=list(dataset or []),
        run_id=run,
        description=description,
        tags=tags,
    )

    def render(_: Any) -> None:
        console.print(f"registered [bold]{mv.name}@{mv.version}[/bold] ({mv.status.value})")
        for a in mv.artifacts:
            console.print(f"  {a.name}  sha256 {a.sha256}  {a.size_bytes} bytes")

    emit(mv, as_json, render)


@app.command("list")
def list_models(as_json: JsonOpt = False) -> None:
    """List registered models with their latest version."""
    ws = workspace()
    models = ws.registry.list_models()
    emit(
        {"models": models},
        as_json,
        lambda _: table(
            "models",
            ["name", "latest", "status", "created", "by"],
            [
                [
                    m.name,
                    m.latest_version,
                    m.latest_status.value,
                    m.created_at.isoformat(timespec="seconds"),
                    m.created_by,
                ]
                for m in models
            ],
        ),
    )


@app.command("versions")
def versions(
    name: Annotated[str, typer.Argument(help="Model name.")],
    as_json: JsonOpt = False,
) -> None:
    """List every version of a model, oldest first."""
    ws = workspace()
    found = ws.registry.list_versions(name)
    metric_keys = sorted({k for v in found for k in v.metrics})[:5]
    emit(
        {"name": name, "versions": found},
        as_json,
        lambda _: table(
            f"versions of {name}",
            ["version", "status", "framework", "created", "by", *metric_keys],
            [
                [
                    v.version,
                    v.status.value,
                    v.framework,
                    v.created_at.isoformat(timespec="seconds"),
                    v.created_by,
                    *[_fmt(v.metrics.get(k)) for k in metric_keys],
                ]
                for v in found
            ],
        ),
    )


@app.command("show")
def show(ref: RefArg, as_json: JsonOpt = False) -> None:
    """Show a version with all its metadata (NAME@latest for the newest)."""
    ws = workspace()
    mv = ws.registry.get(_ref(ref))
    emit(mv, as_json, lambda _: _show_version(mv))


def _decide(ref: str, comment: str, as_json: bool, verb: str) -> None:
    parsed = _ref(ref, allow_latest=False)
    ws = workspace()
    action = getattr(ws.registry, verb)
    assert parsed.version is not None
    mv: ModelVersion = action(parsed.name, parsed.version, comment=comment)

    def render(_: Any) -> None:
        console.print(f"{mv.name}@{mv.version} is now [bold]{mv.status.value}[/bold]")

    emit(mv, as_json, render)


@app.command("approve")
def approve(ref: RefArg, comment: CommentOpt, as_json: JsonOpt = False) -> None:
    """Approve a pending version (records approver, time and comment)."""
    _decide(ref, comment, as_json, "approve")


@app.command("reject")
def reject(ref: RefArg, comment: CommentOpt, as_json: JsonOpt = False) -> None:
    """Reject a pending version (records who, when and why)."""
    _decide(ref, comment, as_json, "reject")


@app.command("archive")
def archive(ref: RefArg, comment: CommentOpt, as_json: JsonOpt = False) -> None:
    """Archive an approved version."""
    _decide(ref, comment, as_json, "archive")


@app.command("compare")
def compare(
    a: Annotated[str, typer.Argument(metavar="NAME@V", help="First version.")],
    b: Annotated[str, typer.Argument(metavar="NAME@V", help="Second version.")],
    as_json: JsonOpt = False,
) -> None:
    """Compare two versions: every metric with differences (b - a), and params."""
    ws = workspace()
    result = ws.registry.compare(_ref(a), _ref(b))

    def render(_: Any) -> None:
        table(
            f"{result.a.ref} vs {result.b.ref}: metrics",
            ["metric", str(result.a.ref), str(result.b.ref), "b - a", "relative"],
            [
                [
                    m.key,
                    _fmt(m.a),
                    _fmt(m.b),
                    _fmt(m.abs_diff),
                    "" if m.rel_diff is None else f"{m.rel_diff:+.2%}",
                ]
                for m in result.metrics
            ],
        )
        table(
            "params",
            ["param", str(result.a.ref), str(result.b.ref), "changed"],
            [[p.key, _fmt(p.a), _fmt(p.b), "yes" if p.changed else ""] for p in result.params],
        )

    emit(result, as_json, render)


@app.command("lineage")
def lineage(ref: RefArg, as_json: JsonOpt = False) -> None:
    """The run and dataset versions that produced a version."""
    parsed = _ref(ref)
    ws = workspace()
    version = parsed.version or ws.registry.get(parsed).version
    result = ws.lineage.of_version(parsed.name, version)

    def render(_: Any) -> None:
        console.print(f"[bold]{parsed.name}@{version}[/bold]")
        console.print(f"  run      {result.run_id or '-'}")
        if result.run is not None:
            console.print(
                f"           experiment {result.run.experiment}, {result.run.status.value}"
            )
        console.print(f"  code     {result.code_version or '-'}")
        console.print("  datasets " + (", ".join(str(d) for d in result.datasets) or "-"))
        groups = [f"{p.get('group')}:v{p.get('version')}" for p in result.feature_groups]
        console.print("  features " + (", ".join(groups) or "-"))

    emit(result, as_json, render)


@app.command("using-dataset")
def using_dataset(
    dataset: Annotated[str, typer.Argument(metavar="DATASET@V", help="e.g. diabetes@1.")],
    as_json: JsonOpt = False,
) -> None:
    """The model versions trained on a dataset version (lineage the other way)."""
    ref = DatasetRef.parse(dataset)
    ws = workspace()
    uses = ws.lineage.versions_using_dataset(ref.name, ref.version)
    emit(
        {"dataset": str(ref), "models": uses},
        as_json,
        lambda _: table(
            f"model versions trained on {ref}",
            ["model", "version", "linked at"],
            [[u.model, u.model_version, u.linked_at] for u in uses],
        ),
    )


@app.command("download")
def download(
    ref: RefArg,
    to: Annotated[Path, typer.Option("--to", help="Folder to write the artifacts into.")],
    as_json: JsonOpt = False,
) -> None:
    """Write a version's artifacts to a folder, each verified against its sha256."""
    parsed = _ref(ref)
    ws = workspace()
    mv = ws.registry.get(parsed)
    paths = ws.registry.download(mv.name, mv.version, to)

    def render(_: Any) -> None:
        for path in paths:
            console.print(f"verified and wrote {path}")

    emit({"name": mv.name, "version": mv.version, "files": paths}, as_json, render)
