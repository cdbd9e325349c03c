"""``modelyard features apply|list|show|versions|ingest|materialize|get|history``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
import yaml

from modelyard.cli.output import JsonOpt, console, emit, table, workspace
from modelyard.errors import EntityNotFoundError, InvalidInputError
from modelyard.features import parse_specs

app = typer.Typer(
    help="Feature groups: definitions, versions, ingestion, online serving.",
    no_args_is_help=True,
)

VersionOpt = Annotated[
    int | None, typer.Option("--version", "-v", min=1, help="Group version (default: latest).")
]


def _load_definitions(path: Path) -> list[Any]:
    if not path.is_file():
        raise InvalidInputError(f"definition file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"cannot parse {str(path)!r} as YAML: {exc}",
            hint="see docs/features.md for the definition format",
        ) from exc
    if data is None:
        raise InvalidInputError(f"definition file {str(path)!r} is empty")
    return parse_specs(data, source=path.name)


@app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="YAML file with one or more feature groups.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan, change nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show what would change (create / new version / metadata / no change), then apply it."""
    ws = workspace()
    specs = _load_definitions(file)
    items = ws.features.apply(specs, dry_run=dry_run)
    result = {"applied": not dry_run, "plan": items}

    def render(_: Any) -> None:
        table(
            "plan" if dry_run else "applied",
            ["group", "action", "version", "changes"],
            [[i.name, i.action, i.version, "; ".join(i.changes)] for i in items],
        )

    emit(result, as_json, render)


@app.command("list")
def list_groups(as_json: JsonOpt = False) -> None:
    """Every feature group with its latest version."""
    ws = workspace()
    groups = ws.features.list_groups()
    emit(
        {"groups": groups},
        as_json,
        lambda _: table(
            "feature groups",
            ["name", "latest", "owner", "description", "updated"],
            [
                [g["name"], g["latest_version"], g["owner"], g["description"], g["updated_at"]]
                for g in groups
            ],
        ),
    )


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Feature group name.")],
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A group version: entity key, event time, typed features, metadata, ingestions."""
    ws = workspace()
    group = ws.features.get_group(name)
    ver = ws.features.get_version(name, version)
    ingestions = ws.features.ingestions(name, ver.version)
    result = {
        **{k: v for k, v in group.items() if k not in ("spec", "fingerprint")},
        "version": ver.to_dict(),
        "ingestions": len(ingestions),
        "rows": sum(i.rows for i in ingestions),
    }

    def render(_: Any) -> None:
        spec = ver.spec
        console.print(
            f"[bold]{name}[/bold] v{ver.version} (latest v{group['latest_version']})  "
            f"owner={group['owner'] or '-'}  tags={group['tags']}"
        )
        console.print(f"  {group['description']}")
        console.print(
            f"  entity key: {', '.join(spec.entity_key)}   event time: {spec.event_time}   "
            f"ttl: {spec.ttl_s or '-'} s"
        )
        console.print(
            f"  {len(ingestions)} ingestions, {result['rows']} rows; "
            f"fingerprint {ver.fingerprint[:12]}"
        )
        table(
            "features",
            ["name", "type", "nullable", "expr", "description"],
            [
                [f.name, f.dtype.value, f.nullable, f.expr or "", f.description]
                for f in spec.features
            ],
        )

    emit(result, as_json, render)


@app.command("versions")
def versions(
    name: Annotated[str, typer.Argument(help="Feature group name.")],
    as_json: JsonOpt = False,
) -> None:
    """Every version of a group (older versions stay readable and unchanged)."""
    ws = workspace()
    items = ws.features.list_versions(name)
    emit(
        {"name": name, "versions": items},
        as_json,
        lambda _: table(
            f"versions of {name}",
            ["version", "created", "by", "features", "fingerprint"],
            [
                [
                    v.version,
                    v.created_at.isoformat(timespec="seconds"),
                    v.created_by,
                    ", ".join(v.spec.feature_names),
                    v.fingerprint[:12],
                ]
                for v in items
            ],
        ),
    )


@app.command("ingest")
def ingest(
    name: Annotated[str, typer.Argument(help="Feature group name.")],
    file: Annotated[Path, typer.Argument(help="A .parquet or .csv file.")],
    version: VersionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check rows against the schema and append them (all or nothing)."""
    ws = workspace()
    result = ws.features.ingest(name, file, version=version)
    emit(
        result,
        as_json,
        lambda r: console.print(
            f"ingested {r.rows} rows into {name} v{r.version} (ingestion {r.seq}, "
            f"event times {r.min_event_time} .. {r.max_event_time})"
        ),
    )


@app.command("materialize")
def materialize(
    name: Annotated[str, typer.Argument(help="Feature group name.")],
    version: VersionOpt = None,
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild from every ingestion, not incrementally.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy the latest values per entity to the online store (incremental)."""
    ws = workspace()
    result = ws.features.materialize(name, version, full=full)
    emit(
        result,
        as_json,
        lambda r: console.print(
            f"materialized {name} v{r.version}: {r.ingestions} new ingestions, {r.rows_read} "
            f"rows, {r.entities_written} entities written (through ingestion {r.through_seq}) "
            f"in {r.seconds:.3f} s"
        ),
    )


@app.command("get")
def get(
    name: Annotated[str, typer.Argument(help="Feature group name.")],
    keys: Annotated[
        list[str],
        typer.Argument(help="Entity keys; a composite key as comma-separated values."),
    ],
    version: VersionOpt = None,
    allow_missing: Annotated[
        bool, typer.Option("--allow-missing", help="Report unknown entities instead of failing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Real-time read of the latest feature values for one or more entities."""
    ws = workspace()
    reader = ws.features.online(name, version)
    composite = len(reader.spec.entity_key) > 1
    parsed: list[Any] = [tuple(k.split(",")) if composite else k for k in keys]
    values = reader.get_many(parsed)
    missing = [k for k, v in zip(keys, values, strict=True) if v is None]
    if missing and not allow_missing:
        raise EntityNotFoundError(
            f"feature group {name!r} v{reader.version} has no online value for "
            f"{', '.join(repr(k) for k in missing)}",
            hint="check the keys, run `modelyard features materialize "
            f"{name}`, or pass --allow-missing",
        )
    entities = [
        {"key": k, "found": v is not None, "features": v} for k, v in zip(keys, values, strict=True)
    ]
    result = {"name": name, "version": reader.version, "entities": entities}

    def render(_: Any) -> None:
        feats = reader.spec.feature_names
        table(
            f"{name} v{reader.version} (online)",
            ["key", *feats],
            [[k, *((v or {}).get(f) for f in feats)] for k, v in zip(keys, values, strict=True)],
        )

    emit(result, as_json, render)


@app.command("history")
def history(
    name: Annotated[str, typer.Argument(help="Feature group name.")],
    version: VersionOpt = None,
    entity: Annotated[
        str | None,
        typer.Option("--entity", "-e", help="Show every stored row of this entity instead."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The group's timeline (versions, ingestions, materializations), or one entity's rows."""
    ws = workspace()
    if entity is None:
        events = ws.features.history(name, version)
        emit(
            {"name": name, "events": events},
            as_json,
            lambda _: table(
                f"history of {name}",
                ["time", "event", "version", "details"],
                [
                    [
                        e["time"],
                        e["event"],
                        e["version"],
                        ", ".join(
                            f"{k}={v}"
                            for k, v in e.items()
                            if k not in ("time", "event", "version")
                        ),
                    ]
                    for e in events
                ],
            ),
        )
        return
    ver = ws.features.get_version(name, version)
    key: Any = tuple(entity.split(",")) if len(ver.spec.entity_key) > 1 else entity
    rows = ws.features.read_range(name, ver.version, entity=key)
    records = _rows(rows)
    emit(
        {"name": name, "version": ver.version, "entity": entity, "rows": records},
        as_json,
        lambda _: table(
            f"{name} v{ver.version}: entity {entity}",
            rows.columns,
            [list(r.values()) for r in records],
        ),
    )


_SHOWN = ("time", "event", "version")


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()
