"""``modelyard catalog list|show|import``: the external dataset catalog."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, progress, table, workspace

app = typer.Typer(
    help="External datasets (AWS Open Data Registry format, UCI diabetes); cached imports.",
    no_args_is_help=True,
)


@app.command("list")
def list_entries(as_json: JsonOpt = False) -> None:
    """Every catalog entry: id, name, licence, size, source."""
    ws = workspace(must_exist=False)
    entries = ws.catalog.list_entries()
    emit(
        {"entries": [e.to_dict() for e in entries]},
        as_json,
        lambda _: table(
            "catalog",
            ["id", "name", "license", "size", "source"],
            [[e.id, e.name, e.license[:40], e.size_text[:40], e.source] for e in entries],
        ),
    )


@app.command("show")
def show(
    entry_id: Annotated[str, typer.Argument(help="Catalog entry id.")], as_json: JsonOpt = False
) -> None:
    """Description, schema, size, licence, source and citation of one entry."""
    ws = workspace(must_exist=False)
    entry = ws.catalog.get(entry_id)
    body = entry.to_dict()

    def render(_: Any) -> None:
        console.print(f"[bold]{entry.name}[/bold] ({entry.id})")
        console.print(entry.description)
        for key in (
            "source",
            "size",
            "license",
            "citation",
            "documentation",
            "managed_by",
            "update_frequency",
        ):
            console.print(f"[bold]{key}[/bold]: {body[key]}")
        if entry.schema:
            table("schema", ["column", "type"], list(entry.schema.items()))

    emit(body, as_json, render)


@app.command("import")
def import_entry(
    entry_id: Annotated[str, typer.Argument(help="Catalog entry id.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Dataset name (default: the entry's).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Fetch from this address (a mirror) instead.")
    ] = None,
    no_mirror: Annotated[
        bool, typer.Option("--no-mirror", help="Ignore the shipped local copy; download.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Download (or take from the cache), verify, validate and add as a dataset version."""
    ws = workspace()
    with progress(as_json) as bar:
        task = bar.add_task(f"import {entry_id}", total=None)

        def report(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        result = ws.catalog.import_(
            entry_id, name=name, source=source, use_mirror=not no_mirror, progress=report
        )

    def render(_: Any) -> None:
        how = "downloaded" if result.downloaded else "from cache, nothing downloaded"
        what = "new version" if result.created else "unchanged version"
        console.print(
            f"{result.version.ref} ({what}; {how}): {result.version.rows} rows x "
            f"{result.version.columns} columns, sha256 {result.version.content_hash[:16]}…"
        )

    emit(result, as_json, render)
