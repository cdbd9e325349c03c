"""Property 41: every catalog entry shows description, schema, size, licence, source."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace

names = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extra=st.lists(
        st.tuples(names, names, st.integers(1, 10**9)), max_size=3, unique_by=lambda t: t[0]
    )
)
def test_p41_dataset_browse_information_completeness(extra: list[tuple[str, str, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        (home / "catalog").mkdir(parents=True)
        for entry_id, column, size in extra:
            (home / "catalog" / f"x{entry_id}.yaml").write_text(
                f"Name: {entry_id}\nDescription: about {entry_id}\nLicense: CC0-1.0\n"
                f"Resources:\n  - Description: d\n    ARN: arn:aws:s3:::b{entry_id}\n"
                f"    Region: us-east-1\n    Type: S3 Bucket\n"
                f"Modelyard:\n  Schema: {{{column}: str}}\n  Files:\n"
                f"    - Url: s3://b{entry_id}/k.csv\n      SizeBytes: {size}\n"
            )
        ws = open_workspace(
            Settings.load({}, home=home, records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        entries = ws.catalog.list_entries()
        ids = {e.id for e in entries}
        assert {
            "uci-diabetes-130",
            "noaa-ghcn",
            "nyc-tlc-trip-records-pds",
            "openaq",
            "ookla-open-data",
        } <= ids
        assert {f"x{e[0]}" for e in extra} <= ids
        for entry in entries:
            shown = ws.catalog.get(entry.id).to_dict()
            for field in ("name", "description", "license", "source", "size"):
                assert shown[field], (entry.id, field)
                assert shown[field] != "unknown", (entry.id, field)
            assert shown["schema"], entry.id
        uci = ws.catalog.get("uci-diabetes-130")
        assert uci.citation.startswith("Beata Strack")
        assert len(uci.schema) == 50
