"""``modelyard init``: create (or show) the workspace."""

from __future__ import annotations

from typing import Any

from modelyard.cli.output import JsonOpt, console, emit, workspace


def init(as_json: JsonOpt = False) -> None:
    """Create the workspace (idempotent) and print where it lives."""
    info = workspace(create=True).info()

    def render(data: dict[str, Any]) -> None:
        console.print(f"[bold]modelyard workspace[/bold] at {data['home']}")
        for key in ("records_uri", "blobs_uri", "user", "created_at", "created_by"):
            console.print(f"  {key:12} {data[key]}")

    emit(info, as_json, render)
