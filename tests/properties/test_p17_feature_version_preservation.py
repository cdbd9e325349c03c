"""P17 Feature version preservation: a new version never changes what older versions return
(offline rows, point-in-time joins, online values)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.properties.features_support import SPEC, T0, batches, stores, to_frame


@settings(max_examples=25, deadline=None)
@given(old=st.lists(batches, min_size=1, max_size=2), new=st.lists(batches, min_size=1, max_size=2))
def test_p17_feature_version_preservation(old: list, new: list) -> None:
    with stores(durable=False) as s:
        svc = s.service()
        svc.apply([SPEC])
        for batch in old:
            svc.ingest("enc", to_frame(batch))
        svc.materialize("enc")
        entities = pl.DataFrame(
            {"id": list(range(8)) * 2, "event_time": [T0 + timedelta(hours=h) for h in range(16)]}
        )
        offline = svc.read_range("enc", 1)
        joined = svc.get_historical_features(entities, ["enc:v1"])
        online = svc.get_online("enc", list(range(8)), version=1)

        # a schema change (float feature becomes derived, one feature dropped) -> v2
        v2 = SPEC.model_copy(
            update={
                "features": (
                    *SPEC.features[:2],
                    SPEC.features[2].model_copy(update={"expr": "s || '!'"}),
                )
            }
        )
        plan = svc.apply([v2])
        assert (plan[0].action, plan[0].version) == ("new_version", 2)
        for batch in new:
            svc.ingest("enc", to_frame(batch).with_columns(pl.col("x") / 2))
        svc.materialize("enc")

        assert_frame_equal(svc.read_range("enc", 1), offline)
        assert_frame_equal(svc.get_historical_features(entities, ["enc:v1"]), joined)
        assert svc.get_online("enc", list(range(8)), version=1) == online
        assert svc.get_version("enc", 1).spec == SPEC.model_copy(update={"version": 1})
