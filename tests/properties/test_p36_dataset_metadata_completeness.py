"""Property 36: every dataset version has all metadata fields of capability 3."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.storage.blobs import BlobRef
from modelyard.workspace import open_workspace

cells = st.one_of(st.integers(-1000, 1000), st.sampled_from(["a", "b", "c d", ""]))
tables = st.integers(1, 4).flatmap(
    lambda width: st.lists(st.tuples(*[cells] * width), min_size=1, max_size=30)
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=tables,
    fmt=st.sampled_from(["csv", "parquet"]),
    tags=st.lists(st.sampled_from(["raw", "eu", "v2"]), unique=True),
)
def test_p36_dataset_metadata_completeness(
    rows: list[tuple[object, ...]], fmt: str, tags: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={"MODELYARD_USER": "maria"},
            create=True,
        )
        frame = pl.DataFrame({f"c{i}": [str(r[i]) for r in rows] for i in range(len(rows[0]))})
        path = folder / f"data.{fmt}"
        if fmt == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
        v = ws.datasets.add(path, name="ds", description="test data", tags=tags)
        stored = ws.datasets.get("ds", v.version)
        body = stored.to_dict()
        for field in (
            "name",
            "version",
            "content_hash",
            "format",
            "schema",
            "rows",
            "columns",
            "size_bytes",
            "source",
            "source_sha256",
            "created_by",
            "created_at",
            "description",
            "tags",
        ):
            assert body[field] not in (None, ""), field
        assert stored == v
        assert (v.name, v.rows, v.columns, v.format) == ("ds", len(rows), frame.width, fmt)
        assert list(v.schema) == frame.columns
        assert v.created_by == "maria"
        assert isinstance(v.created_at, datetime)
        assert v.created_at.tzinfo is not None
        assert v.source == str(path.resolve())
        assert v.tags == tuple(tags)
        assert v.source_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        data = ws.content.get(BlobRef(v.content_hash, v.size_bytes))
        assert hashlib.sha256(data).hexdigest() == v.content_hash
        assert ws.datasets.load("ds", v.version).height == len(rows)
