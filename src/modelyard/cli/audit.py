"""``modelyard audit list|verify``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelyard.cli.output import JsonOpt, console, emit, table, workspace

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@app.command("list")
def list_entries(
    limit: Annotated[int, typer.Option(min=1, help="Newest N entries.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show the newest audit entries (every authorization attempt)."""
    ws = workspace()
    entries = ws.audit.list_entries(limit=limit)
    emit(
        {"entries": entries},
        as_json,
        lambda _: table(
            "audit log (newest first)",
            ["seq", "time", "principal", "action", "resource", "outcome"],
            [
                [
                    e.seq,
                    e.time.isoformat(timespec="seconds"),
                    e.principal,
                    e.action,
                    e.resource,
                    e.outcome,
                ]
                for e in entries
            ],
        ),
    )


@app.command("verify")
def verify(as_json: JsonOpt = False) -> None:
    """Check the hash chain; exit 1 and name the first bad entry if it was tampered with."""
    ws = workspace()
    result = ws.audit.verify()

    def render(_: Any) -> None:
        if result.ok:
            console.print(f"audit log OK: {result.entries_checked} entries, chain intact")
        else:
            console.print(f"[red]audit log TAMPERED[/red] at entry {result.first_bad_seq}")
            console.print(f"  {result.reason}")

    emit(result, as_json, render)
    if not result.ok:
        raise typer.Exit(1)
