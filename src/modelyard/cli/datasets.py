"""``modelyard datasets …``: add, list, versions, show, validate, profile, anomalies, approve,
reject, compare, used-by."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, table, workspace
from modelyard.datasets import DatasetSchema, parse_ref
from modelyard.datasets.anomalies import AnomalyOptions
from modelyard.errors import InvalidInputError

app = typer.Typer(
    help="Datasets: immutable versions, validation, profiles, anomalies, approval, lineage.",
    no_args_is_help=True,
)

RefArg = Annotated[str, typer.Argument(help="NAME or NAME@VERSION (number, latest, approved).")]
MissingOpt = Annotated[
    list[str] | None,
    typer.Option("--missing", help="A value meaning 'missing' (repeatable; default: empty)."),
]
KeepOpt = Annotated[
    list[str] | None,
    typer.Option("--keep", help="A value that is a category, never missing (e.g. None)."),
]
DtypeOpt = Annotated[
    list[str] | None,
    typer.Option("--dtype", help="COLUMN=TYPE override (str, int, float, bool, date, datetime)."),
]
MemberOpt = Annotated[str | None, typer.Option("--member", help="The CSV inside a zip.")]
SepOpt = Annotated[str, typer.Option("--separator", help="CSV field separator.")]
SchemaOpt = Annotated[
    Path | None, typer.Option("--schema", help="A schema file (YAML/JSON) to check against.")
]


def _dtypes(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        column, sep, type_name = item.partition("=")
        if not sep or not column or not type_name:
            raise InvalidInputError(
                f"--dtype {item!r} is not COLUMN=TYPE", hint="e.g. --dtype admission_type_id=str"
            )
        out[column] = type_name
    return out


def _schema(path: Path | None) -> DatasetSchema | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"cannot read schema file {str(path)!r}: {exc}", hint="give a readable YAML file"
        ) from exc
    return DatasetSchema.from_text(text)


def _split(ref: str) -> tuple[str, str | None]:
    name, spec = parse_ref(ref)
    return name, spec


@app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="CSV, CSV.gz, zip holding a CSV, or Parquet.")],
    name: Annotated[str, typer.Option("--name", help="Dataset name.")],
    missing: MissingOpt = None,
    keep: KeepOpt = None,
    dtype: DtypeOpt = None,
    member: MemberOpt = None,
    separator: SepOpt = ",",
    schema: SchemaOpt = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a file and store it as a new immutable version (identical content: the same)."""
    ws = workspace()
    result = ws.datasets.add_file(
        path,
        name=name,
        missing_tokens=missing if missing else None,
        keep_values=keep or (),
        dtypes=_dtypes(dtype),
        member=member,
        separator=separator,
        schema=_schema(schema),
        description=description,
        tags=tag or (),
    )
    v = result.version

    def render(_: Any) -> None:
        what = "added" if result.created else "unchanged: identical content is"
        console.print(
            f"{what} {v.ref}: {v.rows} rows x {v.columns} columns, sha256 {v.content_hash[:16]}…"
        )

    emit(result, as_json, render)


@app.command("list")
def list_datasets(as_json: JsonOpt = False) -> None:
    """Every dataset with its latest version."""
    ws = workspace()
    items = ws.datasets.list_datasets()
    emit(
        {"datasets": items},
        as_json,
        lambda _: table(
            "datasets",
            ["name", "latest", "rows", "columns", "status", "created"],
            [
                [d["name"], d["latest"], d["rows"], d["columns"], d["status"], d["created_at"]]
                for d in items
            ],
        ),
    )


@app.command("versions")
def versions(
    name: Annotated[str, typer.Argument(help="Dataset name.")], as_json: JsonOpt = False
) -> None:
    """All versions of a dataset, oldest first."""
    ws = workspace()
    found = ws.datasets.versions(name)
    statuses = {v.version: ws.datasets.status(name, v.version)["status"] for v in found}
    emit(
        {"name": name, "versions": [{**v.to_dict(), "status": statuses[v.version]} for v in found]},
        as_json,
        lambda _: table(
            f"versions of {name}",
            ["version", "rows", "columns", "sha256", "status", "created", "by"],
            [
                [
                    v.version,
                    v.rows,
                    v.columns,
                    v.content_hash[:16],
                    statuses[v.version],
                    v.created_at.isoformat(timespec="seconds"),
                    v.created_by,
                ]
                for v in found
            ],
        ),
    )


@app.command("show")
def show(ref: RefArg, as_json: JsonOpt = False) -> None:
    """All metadata of one version, with its approval status."""
    ws = workspace()
    name, spec = _split(ref)
    v = ws.datasets.get(name, spec)
    body = {**v.to_dict(), "approval": ws.datasets.status(name, v.version)}

    def render(_: Any) -> None:
        for key in (
            "name",
            "version",
            "content_hash",
            "format",
            "rows",
            "columns",
            "size_bytes",
            "source",
            "source_sha256",
            "created_by",
            "created_at",
            "description",
            "tags",
        ):
            console.print(f"[bold]{key}[/bold]: {body[key]}")
        console.print(f"[bold]status[/bold]: {body['approval']['status']}")
        if v.attribution:
            for key in ("license", "citation", "retrieved_at", "sha256"):
                console.print(f"[bold]{key}[/bold]: {v.attribution.get(key)}")
        table("schema", ["column", "type"], list(v.schema.items()))

    emit(body, as_json, render)


@app.command("validate")
def validate(
    target: Annotated[
        str, typer.Argument(help="A file path, or NAME@VERSION of a stored version.")
    ],
    schema: SchemaOpt = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Check a file against this dataset's schema.")
    ] = None,
    missing: MissingOpt = None,
    keep: KeepOpt = None,
    dtype: DtypeOpt = None,
    member: MemberOpt = None,
    separator: SepOpt = ",",
    as_json: JsonOpt = False,
) -> None:
    """Check a file or a stored version against a schema; store nothing. Exit 1 if invalid."""
    ws = workspace()
    declared = _schema(schema)
    path = Path(target)
    if path.exists() or "@" not in target:
        problems = ws.datasets.validate_file(
            path,
            schema=declared,
            name=name,
            missing_tokens=missing if missing else None,
            keep_values=keep or (),
            dtypes=_dtypes(dtype),
            member=member,
            separator=separator,
        )
    else:
        ds, spec = _split(target)
        problems = ws.datasets.validate_version(ds, spec, declared)
    result = {
        "target": target,
        "valid": not problems,
        "violations": [p.to_dict() for p in problems],
    }

    def render(_: Any) -> None:
        if not problems:
            console.print(f"{target}: valid")
            return
        table(
            f"{target}: {len(problems)} violations",
            ["column", "rule", "count", "examples", "detail"],
            [
                [p.column, p.rule, p.count, ", ".join(map(str, p.examples)), p.detail]
                for p in problems
            ],
        )

    emit(result, as_json, render)
    if problems:
        raise typer.Exit(1)


@app.command("profile")
def profile(
    ref: RefArg,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML report (inline SVG charts) here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Statistics of every column, correlations and missing values; optionally an HTML report."""
    ws = workspace()
    name, spec = _split(ref)
    result = ws.datasets.profile(name, spec)
    if html is not None:
        page = ws.datasets.profile_html(name, result["version"])
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(
                f"cannot write the report to {str(html)!r}: {exc.strerror}",
                hint="choose a writable path",
            ) from exc
        result["html"] = {"path": str(html), "size_bytes": len(page.encode())}

    def render(_: Any) -> None:
        rows = []
        for c in result["columns"]:
            n = c.get("numeric") or {}
            cats = (c.get("categories") or {}).get("top") or []
            rows.append(
                [
                    c["name"],
                    c["type"],
                    c["count"],
                    c["missing"],
                    c["distinct"],
                    _short(n.get("mean")),
                    _short(n.get("std")),
                    ", ".join(f"{t['value']}:{t['count']}" for t in cats[:3]),
                ]
            )
        table(
            f"{result['dataset']}: {result['rows']} rows",
            ["column", "type", "count", "missing", "distinct", "mean", "std", "top values"],
            rows,
        )
        if html is not None:
            console.print(f"report written to {html}")

    emit(result, as_json, render)


def _short(value: Any) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


@app.command("anomalies")
def anomalies(
    ref: RefArg,
    missing_threshold: Annotated[
        float, typer.Option(help="Flag columns with a larger missing share.", min=0, max=1)
    ] = 0.2,
    outlier_k: Annotated[float, typer.Option(help="Tukey fence multiplier.", min=0)] = 3.0,
    as_json: JsonOpt = False,
) -> None:
    """Missing values, duplicates, schema violations, outliers, unseen categories."""
    ws = workspace()
    name, spec = _split(ref)
    v = ws.datasets.get(name, spec)
    found = ws.datasets.anomalies(
        name, v.version, options=AnomalyOptions(missing_threshold, outlier_k)
    )
    result = {"dataset": v.ref, "anomalies": [a.to_dict() for a in found]}

    def render(_: Any) -> None:
        if not found:
            console.print(f"{v.ref}: no anomalies")
            return
        table(
            f"{v.ref}: {len(found)} anomalies",
            ["kind", "column", "count", "examples", "detail"],
            [[a.kind, a.column, a.count, ", ".join(map(str, a.examples)), a.detail] for a in found],
        )

    emit(result, as_json, render)


def _decide(ref: str, comment: str, as_json: bool, approve: bool) -> None:
    ws = workspace()
    name, spec = _split(ref)
    if spec is None:
        raise InvalidInputError(
            f"say which version to {'approve' if approve else 'reject'}: {ref}@VERSION",
            hint=f"e.g. `modelyard datasets {'approve' if approve else 'reject'} {ref}@1`",
        )
    decision = (ws.datasets.approve if approve else ws.datasets.reject)(name, spec, comment)
    emit(
        decision,
        as_json,
        lambda _: console.print(
            f"{decision.name}@{decision.version} {decision.status} by {decision.by} "
            f"at {decision.at.isoformat(timespec='seconds')}"
        ),
    )


CommentOpt = Annotated[str, typer.Option("--comment", "-m", help="Why.")]


@app.command("approve")
def approve(ref: RefArg, comment: CommentOpt = "", as_json: JsonOpt = False) -> None:
    """Approve a version (approver, time and comment are recorded)."""
    _decide(ref, comment, as_json, approve=True)


@app.command("reject")
def reject(ref: RefArg, comment: CommentOpt = "", as_json: JsonOpt = False) -> None:
    """Reject a version (approver, time and comment are recorded)."""
    _decide(ref, comment, as_json, approve=False)


@app.command("compare")
def compare(
    a: Annotated[str, typer.Argument(help="NAME@V: the reference.")],
    b: Annotated[str, typer.Argument(help="NAME@V (or just V: same dataset).")],
    as_json: JsonOpt = False,
) -> None:
    """Schema, row-count and per-column statistic differences, and drift of b against a."""
    ws = workspace()
    name_a, spec_a = _split(a)
    spec_b: str | None
    if b.isdigit() or b in ("latest", "approved"):
        name_b, spec_b = name_a, b
    else:
        name_b, spec_b = _split(b)
    result = ws.datasets.compare(name_a, spec_a, name_b, spec_b)

    def render(_: Any) -> None:
        s = result["schema"]
        console.print(
            f"{result['a']} -> {result['b']}: rows {result['rows']['a']} -> {result['rows']['b']} "
            f"({result['rows']['change']:+d}); added {s['added'] or '-'}, removed "
            f"{s['removed'] or '-'}, type changes {len(s['type_changed'])}"
        )
        d = result["drift"]
        console.print(
            f"dataset drift: {d['dataset_drift']} (score {d['drift_score']:.2f}; "
            f"drifted: {', '.join(d['drifted_features']) or 'none'})"
        )
        rows = []
        for c in result["columns"]:
            drift = c.get("drift") or {}
            rows.append(
                [
                    c["column"],
                    f"{c['missing_rate']['a']:.3f} -> {c['missing_rate']['b']:.3f}",
                    drift.get("method") or "",
                    _short(drift.get("score")),
                    _short(drift.get("p_value")),
                    "yes" if drift.get("drifted") else "",
                ]
            )
        table("columns", ["column", "missing rate", "method", "score", "p-value", "drift"], rows)

    emit(result, as_json, render)


@app.command("used-by")
def used_by(ref: RefArg, as_json: JsonOpt = False) -> None:
    """The model versions trained on a dataset version."""
    ws = workspace()
    name, spec = _split(ref)
    v = ws.datasets.get(name, spec)
    links = ws.datasets.used_by(name, v.version)
    emit(
        {"dataset": v.ref, "models": [link.to_dict() for link in links]},
        as_json,
        lambda _: table(
            f"models trained on {v.ref}",
            ["model", "version", "linked at"],
            [[link.model, link.model_version, link.linked_at] for link in links],
        ),
    )
