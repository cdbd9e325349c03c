"""``modelyard features …`` end to end, as a user types it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult

Cli = Callable[..., CliResult]

DEFINITION = """
feature_groups:
  - name: encounters
    entity_key: encounter_id
    event_time: event_timestamp
    description: Encounter statistics
    owner: ml-team
    tags: {domain: diabetes}
    features:
      - {name: time_in_hospital, dtype: int64}
      - {name: num_medications, dtype: int64}
      - {name: meds_per_day, dtype: float64, expr: "num_medications / time_in_hospital"}
"""
ROWS = (
    "encounter_id,event_timestamp,time_in_hospital,num_medications\n"
    "1,2020-01-01,3,12\n"
    "2,2020-01-02T10:00:00Z,5,7\n"
    "1,2020-02-01,4,12\n"
)


def ok(result: CliResult) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_features_lifecycle(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").returncode == 0
    (tmp_path / "fg.yaml").write_text(DEFINITION)
    (tmp_path / "rows.csv").write_text(ROWS)

    plan = ok(cli("features", "apply", "fg.yaml", "--dry-run", "--json"))
    assert plan == {
        "applied": False,
        "plan": [
            {
                "name": "encounters",
                "action": "create",
                "version": 1,
                "previous_version": None,
                "changes": ["new feature group"],
            }
        ],
    }
    assert ok(cli("features", "apply", "fg.yaml", "--json"))["plan"][0]["action"] == "create"
    again = ok(cli("features", "apply", "fg.yaml", "--json"))
    assert again["plan"][0]["action"] == "no_change"

    groups = ok(cli("features", "list", "--json"))["groups"]
    assert [(g["name"], g["latest_version"], g["owner"]) for g in groups] == [
        ("encounters", 1, "ml-team")
    ]
    ingested = ok(cli("features", "ingest", "encounters", "rows.csv", "--json"))
    assert (ingested["rows"], ingested["seq"], ingested["source"]) == (3, 1, "rows.csv")

    mat = ok(cli("features", "materialize", "encounters", "--json"))
    assert (mat["ingestions"], mat["entities_written"]) == (1, 2)

    got = ok(cli("features", "get", "encounters", "1", "2", "77", "--allow-missing", "--json"))
    assert got["entities"] == [
        {
            "key": "1",
            "found": True,
            "features": {"time_in_hospital": 4, "num_medications": 12, "meds_per_day": 3.0},
        },
        {
            "key": "2",
            "found": True,
            "features": {"time_in_hospital": 5, "num_medications": 7, "meds_per_day": 1.4},
        },
        {"key": "77", "found": False, "features": None},
    ]

    show = ok(cli("features", "show", "encounters", "--json"))
    assert (show["rows"], show["ingestions"], show["version"]["version"]) == (3, 1, 1)
    assert [f["name"] for f in show["version"]["spec"]["features"]][-1] == "meds_per_day"

    rows = ok(cli("features", "history", "encounters", "--entity", "1", "--json"))["rows"]
    assert [r["event_timestamp"][:10] for r in rows] == ["2020-01-01", "2020-02-01"]
    events = ok(cli("features", "history", "encounters", "--json"))["events"]
    assert [e["event"] for e in events] == [
        "version_created",
        "ingestion_committed",
        "materialized",
    ]

    # a schema change makes version 2; version 1 stays as it was
    (tmp_path / "fg2.yaml").write_text(
        DEFINITION.replace(
            "      - {name: num_medications, dtype: int64}\n",
            "      - {name: num_medications, dtype: float64}\n",
        )
    )
    new = ok(cli("features", "apply", "fg2.yaml", "--json"))["plan"][0]
    assert (new["action"], new["version"], new["changes"]) == (
        "new_version",
        2,
        ["~ feature num_medications: int64 -> float64"],
    )
    versions = ok(cli("features", "versions", "encounters", "--json"))["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    v1 = ok(cli("features", "get", "encounters", "1", "--version", "1", "--json"))
    assert v1["entities"][0]["features"]["time_in_hospital"] == 4


def test_features_bad_input(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    (tmp_path / "fg.yaml").write_text(DEFINITION)
    cli("features", "apply", "fg.yaml")
    (tmp_path / "bad.csv").write_text(
        "encounter_id,event_timestamp,time_in_hospital,num_medications\n"
        "1,2020-01-01,3,12\n"
        ",2020-01-02,5,7\n"
        "3,not-a-date,x,7\n"
    )
    bad = cli("features", "ingest", "encounters", "bad.csv", "--json")
    assert bad.returncode == 2
    body = json.loads(bad.stdout)
    assert body["error"] == "SchemaViolationError"
    assert {(v["column"], tuple(v["rows"])) for v in body["violations"]} == {
        ("encounter_id", (2,)),
        ("event_timestamp", (3,)),
        ("time_in_hospital", (3,)),
    }
    assert "nothing was ingested" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert ok(cli("features", "show", "encounters", "--json"))["rows"] == 0

    missing = cli("features", "show", "nope")
    assert missing.returncode == 4
    assert "no feature group 'nope'" in missing.stderr
    unknown_version = cli("features", "show", "encounters", "--version", "9")
    assert unknown_version.returncode == 4
    assert "no version 9" in unknown_version.stderr

    absent = cli("features", "get", "encounters", "77")
    assert absent.returncode == 4
    assert "'77'" in absent.stderr

    rewrite = DEFINITION.replace(
        "event_time: event_timestamp", "event_time: event_timestamp\n    version: 1"
    ).replace(
        "dtype: int64}\n      - {name: num_medications",
        "dtype: float64}\n      - {name: num_medications",
    )
    (tmp_path / "rewrite.yaml").write_text(rewrite)
    refused = cli("features", "apply", "rewrite.yaml")
    assert refused.returncode == 6
    assert "history is never rewritten" in refused.stderr
    assert "version 2" in refused.stderr

    (tmp_path / "broken.yaml").write_text("feature_groups: [{name: x, features: []}]")
    invalid = cli("features", "apply", "broken.yaml")
    assert invalid.returncode == 2
    assert "entity_key" in invalid.stderr
