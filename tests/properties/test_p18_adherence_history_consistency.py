"""P18 for the adherence use case: the patient history the model trains on (point in time from
the feature store), the history real-time prediction reads (online + the batch) and the
definition computed from the data (``batch_history``) are the same values.

Random encounter sets: a few patients, ids spread over ~200 days of the synthetic clock (so
next admissions fall both inside and outside the 30-day outcome window), random lengths of
stay and outcomes, some unknown.
"""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from modelyard.adherence.history import GROUP_FEATURES, batch_history
from modelyard.adherence.store import PatientHistoryStore
from tests.properties.features_support import stores

DAY = 86_400
encounter = st.tuples(
    st.integers(1, 4),  # patient
    st.integers(1, 14),  # time in hospital
    st.sampled_from(["<30", ">30", "NO", None]),
    st.none() | st.integers(0, 9),  # prior-year visits (sometimes not recorded)
)
data = st.dictionaries(st.integers(1, 200 * DAY), encounter, min_size=1, max_size=25)


def frame(d: dict[int, tuple[int, int, str | None, int | None]]) -> pl.DataFrame:
    ids = list(d)  # not sorted: input order must not matter
    return pl.DataFrame(
        {
            "encounter_id": ids,
            "patient_nbr": [d[i][0] for i in ids],
            "time_in_hospital": [d[i][1] for i in ids],
            "number_outpatient": [d[i][3] for i in ids],
            "number_emergency": [None if d[i][3] is None else d[i][3] + 1 for i in ids],
            "number_inpatient": [None if d[i][3] is None else d[i][3] * 2 for i in ids],
            "readmitted": [d[i][2] for i in ids],
        },
        schema_overrides={"readmitted": pl.String},
    )


def final_state(whole: pl.DataFrame) -> pl.DataFrame:
    """Each patient's history after all their encounters (what a new admission sees)."""
    last = whole.group_by("patient_nbr").agg(pl.col("encounter_id").max())
    later = last.with_columns(
        (pl.col("encounter_id") + 10**9).alias("encounter_id"),
        pl.lit(1).alias("time_in_hospital"),
        pl.lit(0).alias("number_outpatient"),
        pl.lit(0).alias("number_emergency"),
        pl.lit(0).alias("number_inpatient"),
        pl.lit(None, dtype=pl.String).alias("readmitted"),
    ).select(whole.columns)
    both = pl.concat([whole, later], how="vertical_relaxed")
    hist = batch_history(both).with_columns(both["encounter_id"], both["patient_nbr"])
    return hist.filter(pl.col("encounter_id") >= 10**9).drop("encounter_id")


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(d=data, durable=st.booleans())
def test_training_reads_the_batch_history_point_in_time(d: dict, durable: bool) -> None:
    whole = frame(d)
    with stores(durable) as s:
        store = PatientHistoryStore(s.service())
        pin = store.publish(whole, source="all").pin
        assert_frame_equal(store.point_in_time(whole, pin), batch_history(whole))
        # the online value of every patient is the latest point-in-time value
        got = s.service("bob").get_online(pin.group, whole["patient_nbr"].unique().to_list())
        expect = final_state(whole)
        online = pl.DataFrame(got, schema=dict.fromkeys(GROUP_FEATURES, pl.Int64))
        keyed = expect.join(
            online.with_columns(whole["patient_nbr"].unique().alias("patient_nbr")),
            on="patient_nbr",
            suffix="_online",
        )
        for c in GROUP_FEATURES:
            assert keyed[c].to_list() == keyed[f"{c}_online"].to_list(), c


@SETTINGS
@given(d=data, cut=st.integers(1, 200 * DAY), durable=st.booleans())
def test_prediction_reads_online_plus_the_batch(d: dict, cut: int, durable: bool) -> None:
    whole = frame(d)
    past = whole.filter(pl.col("encounter_id") < cut)
    batch = whole.filter(pl.col("encounter_id") >= cut)
    with stores(durable) as s:
        store = PatientHistoryStore(s.service())
        pin = store.publish(past, source="past").pin if past.height else store.ensure()
        if batch.height == 0:
            return
        expect = (
            batch.select("encounter_id")
            .join(
                batch_history(whole).with_columns(whole["encounter_id"]),
                on="encounter_id",
                how="left",
            )
            .select(GROUP_FEATURES)
        )
        assert_frame_equal(store.for_prediction(batch, pin), expect)
        # scoring encounters that were already published never sees them or later ones
        if past.height:
            assert_frame_equal(store.for_prediction(past, pin), batch_history(past))


@SETTINGS
@given(d=data, keep=st.lists(st.booleans(), min_size=25, max_size=25))
def test_republishing_replaces_a_smaller_timeline(d: dict, keep: list[bool]) -> None:
    whole = frame(d)
    part = whole.filter(pl.Series(keep[: whole.height]))
    with stores(False) as s:
        store = PatientHistoryStore(s.service())
        if part.height:
            store.publish(part, source="part")
        pin = store.publish(whole, source="whole").pin
        assert_frame_equal(store.point_in_time(whole, pin), batch_history(whole))
        again = store.publish(whole, source="whole")
        assert again.ingestion is None  # the same source twice: nothing written


@SETTINGS
@given(d=data, piece=st.lists(st.integers(0, 3), min_size=25, max_size=25), durable=st.booleans())
def test_publishing_in_pieces_gives_the_history_of_everything(
    d: dict, piece: list[int], durable: bool
) -> None:
    """New encounters arrive in batches, in any order: each publication adds to the
    patients' histories, and the result is the history of everything published."""
    whole = frame(d)
    label = pl.Series(piece[: whole.height])
    with stores(durable) as s:
        store = PatientHistoryStore(s.service())
        for k in (3, 1, 0, 2):  # not in time order
            part = whole.filter(label == k)
            if part.height:
                store.publish(part, source=f"piece-{k}")
        pin = store.ensure()
        assert_frame_equal(store.point_in_time(whole, pin), batch_history(whole))
        got = s.service().get_online(pin.group, whole["patient_nbr"].unique().to_list())
        online = pl.DataFrame(got, schema=dict.fromkeys(GROUP_FEATURES, pl.Int64))
        expect = (
            whole["patient_nbr"]
            .unique()
            .to_frame()
            .join(final_state(whole), on="patient_nbr", how="left")
            .select(GROUP_FEATURES)
        )
        assert_frame_equal(online, expect)


@SETTINGS
@given(d=data, which=st.integers(0, 24), outcome=st.sampled_from(["<30", ">30", "NO", None]))
def test_publishing_an_encounter_again_corrects_it(
    d: dict, which: int, outcome: str | None
) -> None:
    whole = frame(d)
    row = which % whole.height
    corrected = whole.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(outcome, dtype=pl.String))
        .otherwise(pl.col("readmitted"))
        .alias("readmitted")
    )
    with stores(False) as s:
        store = PatientHistoryStore(s.service())
        store.publish(whole, source="first")
        pin = store.publish(corrected.slice(row, 1), source="correction").pin
        assert_frame_equal(store.point_in_time(whole, pin), batch_history(corrected))
