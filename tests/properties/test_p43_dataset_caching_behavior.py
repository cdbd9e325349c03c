"""Property 43: a repeated import of an unchanged source downloads nothing; a changed one is
fetched again. (Over HTTP and S3 with request counts: tests/integration/test_import_*.py.)"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.sampled_from(["import", "change"]), min_size=1, max_size=6))
def test_p43_dataset_caching_behavior(steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "s.csv"
        source.write_text("v\n0\n")
        entries = folder / "ws" / "catalog"
        entries.mkdir(parents=True)
        (entries / "s.yaml").write_text(
            "Name: S\nDescription: s\nLicense: CC0-1.0\nResources:\n  - Description: f\n"
            f"    ARN: x\n    Type: File\nModelyard:\n  Size: tiny\n  Schema: {{v: int}}\n"
            f"  Files:\n    - Url: {source.as_uri()}\n"
        )
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        changed = True  # nothing fetched yet
        generation = 0
        for step in ["import", *steps]:
            if step == "change":
                generation += 1
                source.write_text(f"v\n{generation}\n")
                os.utime(source, ns=(generation * 10**9, generation * 10**9))
                changed = True
                continue
            result = ws.catalog.import_("s")
            assert result.downloaded is changed
            assert result.bytes_transferred == (source.stat().st_size if changed else 0)
            assert ws.datasets.load("s", result.version.version)["v"].to_list() == [generation]
            changed = False
