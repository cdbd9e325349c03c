"""Property 40: imports carry source, licence, citation, retrieval time and checksum."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace

texts = st.text(
    st.characters(min_codepoint=65, max_codepoint=122, categories=["L"]), min_size=1, max_size=20
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.integers(-50, 50), min_size=1, max_size=50), licence=texts, citation=texts
)
def test_p40_dataset_import_metadata(values: list[int], licence: str, citation: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = ("x\n" + "".join(f"{v}\n" for v in values)).encode()
        (folder / "x.csv").write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        entries = folder / "ws" / "catalog"
        entries.mkdir(parents=True)
        (entries / "numbers.yaml").write_text(
            f"Name: Numbers\nDescription: Some numbers.\nLicense: '{licence}'\n"
            f"Citation: '{citation}'\nResources:\n  - Description: file\n"
            f"    ARN: {(folder / 'x.csv').as_uri()}\n    Region: ''\n    Type: File\n"
            f"Modelyard:\n  Schema: {{x: int}}\n  Files:\n"
            f"    - Url: {(folder / 'x.csv').as_uri()}\n"
            f"      Sha256: {sha}\n      SizeBytes: {len(data)}\n"
        )
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        before = datetime.now().astimezone()
        result = ws.catalog.import_("numbers")
        stored = ws.datasets.get("numbers", result.version.version)
        attribution = stored.attribution
        assert attribution is not None
        assert attribution["source"] == (folder / "x.csv").as_uri()
        assert attribution["license"] == licence
        assert attribution["citation"] == citation
        assert attribution["sha256"] == sha
        assert attribution["size_bytes"] == len(data)
        assert datetime.fromisoformat(attribution["retrieved_at"]) >= before
        assert stored.source_sha256 == sha
        assert stored.rows == len(values)
