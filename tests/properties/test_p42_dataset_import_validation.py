"""Property 42: corrupt or incompatible downloads are rejected (nothing stored)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.errors import ChecksumMismatchError, InvalidInputError
from modelyard.settings import Settings
from modelyard.workspace import open_workspace

GOOD = ("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(200))).encode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    damage=st.sampled_from(["truncate", "flip", "garbage", "wrong_schema"]),
    where=st.floats(0.05, 0.95),
)
def test_p42_dataset_import_validation(damage: str, where: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        at = int(len(GOOD) * where)
        expected_sha, expected_size = hashlib.sha256(GOOD).hexdigest(), len(GOOD)
        if damage == "truncate":
            served = GOOD[:at]
        elif damage == "flip":
            served = GOOD[:at] + bytes([GOOD[at] ^ 0x01]) + GOOD[at + 1 :]
        elif damage == "garbage":  # right checksum, wrong format
            served = bytes(range(256)) * 4
            expected_sha, expected_size = hashlib.sha256(served).hexdigest(), len(served)
        else:  # a well-formed CSV that does not fit the entry's schema
            served = b"a,b\nx,y\n"
            expected_sha, expected_size = hashlib.sha256(served).hexdigest(), len(served)
        (folder / "d.csv").write_bytes(served)
        entries = folder / "ws" / "catalog"
        entries.mkdir(parents=True)
        (entries / "d.yaml").write_text(
            "Name: D\nDescription: d\nLicense: CC0-1.0\nResources:\n  - Description: f\n"
            f"    ARN: x\n    Type: File\nModelyard:\n  Schema: {{a: int, b: int}}\n  Files:\n"
            f"    - Url: {(folder / 'd.csv').as_uri()}\n      Sha256: '{expected_sha}'\n"
            f"      SizeBytes: {expected_size}\n"
        )
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        with pytest.raises((ChecksumMismatchError, InvalidInputError)) as info:
            ws.catalog.import_("d")
        assert info.value.hint
        assert ws.datasets.list_datasets() == []
        assert list(ws.records.query("dataset#d")) == []
