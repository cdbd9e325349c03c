"""P15 Feature persistence with metadata: ingested features read back exactly, with group,
version, event time and ingestion time."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.properties.features_support import SPEC, batches, stores, to_frame


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "localfs+sqlite"])
@settings(max_examples=25, deadline=None)
@given(data=st.lists(batches, min_size=1, max_size=3))
def test_p15_feature_persistence_with_metadata(durable: bool, data: list) -> None:
    with stores(durable) as s:
        svc = s.service()
        svc.apply([SPEC])
        expected = []
        for batch in data:
            frame = to_frame(batch)
            ing = svc.ingest("enc", frame)
            assert (ing.name, ing.version, ing.rows) == ("enc", 1, frame.height)
            assert ing.min_event_time == frame["ts"].min()
            assert ing.max_event_time == frame["ts"].max()
            expected.append(frame.with_columns(pl.lit(ing.ingested_at).alias("ingested_at")))
        want = (
            pl.concat(expected)
            .with_columns(pl.col("ingested_at").cast(pl.Datetime("us", "UTC")))
            .sort(["id", "ts", "ingested_at"])
        )
        assert_frame_equal(svc.read_range("enc", 1), want)
        stored = svc.ingestions("enc", 1)
        assert [i.seq for i in stored] == list(range(1, len(data) + 1))
        assert [i.ingested_at for i in stored] == sorted({i.ingested_at for i in stored})
