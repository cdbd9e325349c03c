"""P16 Feature consistency across users: two principals reading the same group, version and
as-of time get identical values (also after later ingestions)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.properties.features_support import SPEC, T0, batches, stores, to_frame

entity_rows = st.lists(st.tuples(st.integers(0, 7), st.integers(-1, 10)), min_size=1, max_size=15)


@settings(max_examples=30, deadline=None)
@given(
    before=st.lists(batches, min_size=1, max_size=3),
    after=st.lists(batches, max_size=2),
    wanted=entity_rows,
)
def test_p16_feature_consistency_across_users(before: list, after: list, wanted: list) -> None:
    with stores(durable=False) as s:
        alice, bob = s.service("alice"), s.service("bob")
        alice.apply([SPEC])
        for batch in before:
            last = alice.ingest("enc", to_frame(batch))
        entities = pl.DataFrame(
            {
                "id": [w[0] for w in wanted],
                "event_time": [T0 + timedelta(hours=w[1]) for w in wanted],
            }
        )
        a1 = alice.get_historical_features(entities, ["enc:v1"], as_of=last.ingested_at)
        b1 = bob.get_historical_features(entities, ["enc:v1"], as_of=last.ingested_at)
        assert_frame_equal(a1, b1)
        assert_frame_equal(
            alice.read_range("enc", 1, as_of=last.ingested_at),
            bob.read_range("enc", 1, as_of=last.ingested_at),
        )
        for batch in after:
            bob.ingest("enc", to_frame(batch))
        # the same as-of time still gives the same values, to either principal
        assert_frame_equal(
            bob.get_historical_features(entities, ["enc:v1"], as_of=last.ingested_at), a1
        )
        assert_frame_equal(
            alice.get_historical_features(entities, ["enc"]),
            bob.get_historical_features(entities, ["enc"]),
        )
