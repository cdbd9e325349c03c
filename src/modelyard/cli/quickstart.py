"""``modelyard quickstart``: the adherence use case end to end on the shipped UCI data."""

from __future__ import annotations

from typing import Any

from modelyard.cli.output import JsonOpt, console, emit, progress, table, workspace


def quickstart(as_json: JsonOpt = False) -> None:
    """Import, validate, profile, train, approve, predict, check drift, raise an alarm."""
    from modelyard.quickstart import run_quickstart

    ws = workspace(create=True)
    with progress(as_json) as bar:
        task = bar.add_task("quickstart", total=8)

        def on_progress(name: str, index: int, total: int) -> None:
            bar.update(task, description=name, completed=index, total=total)
            if not as_json and not bar.live.is_started:
                console.print(f"[{index + 1}/{total}] {name}")

        summary = run_quickstart(ws, on_progress=on_progress)

    def render(s: dict[str, Any]) -> None:
        d, m = s["dataset"], s["model"]
        console.print()
        console.print(f"[bold]modelyard quickstart[/bold] finished in {s['seconds']} s")
        console.print(
            f"data: {d['name']}@{d['version']}: {d['rows']:,} encounters x {d['columns']} "
            f"columns ({'downloaded' if d['downloaded'] else 'from the cache'}), "
            f"{d['schema_violations']} schema violations, {d['anomalies']} anomalies flagged"
        )
        console.print(f"model: {m['name']}@{m['version']} ({m['status']}), run {m['run_id']}")
        metrics = m["test_metrics"]
        table(
            "held-out patients (encounter level)",
            ["metric", "value"],
            [[k, "" if v is None else f"{v:.4f}"] for k, v in metrics.items()],
        )
        table(
            "production batches",
            ["batch", "encounters", "rows out", "drift", "dataset drift", "alarm"],
            [
                [
                    b["batch_id"],
                    b["encounters"],
                    b["predictions"],
                    f"{b['drift_score']:.3f}",
                    "yes" if b["dataset_drift"] else "no",
                    b["alarm"]["state"],
                ]
                for b in s["batches"]
            ],
        )
        console.print(f"alarm on the drift score: {s['batches'][0]['alarm']['name']}")
        fs, rt = s["feature_store"], s["realtime"]
        if fs:
            console.print(
                f"feature store: patient history in {fs['group']} v{fs['version']} "
                f"({fs['snapshots']:,} snapshots), read point in time for training"
            )
        console.print(
            f"real time: encounter {rt['encounter_id']} of patient {rt['patient_nbr']} "
            f"({rt['earlier_encounters_in_store']} earlier encounter(s) in the store): "
            f"p={rt['probability']:.3f}, top risk factors {', '.join(rt['top_risk_factors'])} "
            f"({rt['milliseconds']} ms)"
        )
        console.print("reports:")
        console.print(f"  profile   {d['profile_html']}")
        for b in s["batches"]:
            console.print(f"  drift     {b['drift_report_html']}")
        console.print("try next:")
        for line in s["next"]:
            console.print(f"  {line}")

    emit(summary, as_json, render)
