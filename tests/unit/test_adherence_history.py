"""The patient history definition: batch, event timeline, combination (no store involved)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from modelyard.adherence.history import (
    DISCHARGE_AFTER,
    ENCOUNTER_EPOCH,
    GROUP_FEATURES,
    OUTCOME_WINDOW,
    batch_history,
    combine,
    fill_absent,
    history_events,
    history_spec,
)
from modelyard.errors import InvalidInputError


def encounters(rows: list[tuple[int, int, int, str | None]]) -> pl.DataFrame:
    """(encounter_id, patient_nbr, time_in_hospital, readmitted); visits = id % 7 etc."""
    return pl.DataFrame(
        {
            "encounter_id": [r[0] for r in rows],
            "patient_nbr": [r[1] for r in rows],
            "time_in_hospital": [r[2] for r in rows],
            "number_outpatient": [r[0] % 7 for r in rows],
            "number_emergency": [r[0] % 5 for r in rows],
            "number_inpatient": [r[0] % 3 for r in rows],
            "readmitted": [r[3] for r in rows],
        },
        schema_overrides={"readmitted": pl.String},
    )


def at(seconds: float) -> object:
    return ENCOUNTER_EPOCH + timedelta(seconds=seconds)


def test_batch_history_counts_only_earlier_encounters_in_input_order() -> None:
    frame = encounters([(30, 5, 7, "NO"), (10, 5, 2, "<30"), (20, 5, 3, ">30"), (15, 9, 4, "NO")])
    got = batch_history(frame).with_columns(frame["encounter_id"])
    rows = {r["encounter_id"]: r for r in got.iter_rows(named=True)}
    assert [rows[i]["prior_encounters"] for i in (10, 20, 30, 15)] == [0, 1, 2, 0]
    assert [rows[i]["prior_time_in_hospital"] for i in (10, 20, 30)] == [0, 2, 5]
    assert [rows[i]["prior_readmitted_30"] for i in (10, 20, 30)] == [0, 1, 1]
    assert [rows[i]["prior_readmitted"] for i in (10, 20, 30)] == [0, 1, 2]
    assert [rows[i]["last_encounter_id"] for i in (10, 20, 30)] == [None, 10, 20]
    # the visit counts reported at the previous encounter (20 % 7 == 6)
    assert rows[30]["prior_year_outpatient"] == 20 % 7
    assert rows[10]["prior_year_outpatient"] is None
    assert got.columns == [*GROUP_FEATURES, "encounter_id"]


def test_unknown_outcomes_are_null_not_zero() -> None:
    frame = encounters([(10, 1, 2, None), (20, 1, 3, "?"), (30, 1, 1, None)])
    got = batch_history(frame)
    assert got["prior_outcomes_known"].to_list() == [0, 0, 0]
    assert got["prior_readmitted_30"].to_list() == [0, None, None]


def test_events_publish_facts_at_discharge_and_outcomes_when_known() -> None:
    day = 86_400
    # patient 1: 100, then 100 + 10 days (within the window), then 100 + 100 days
    frame = encounters(
        [(100, 1, 2, "<30"), (100 + 10 * day, 1, 3, ">30"), (100 + 100 * day, 1, 4, None)]
    )
    ev = history_events(frame)
    times = ev["event_time"].to_list()
    assert times == [
        at(100) + DISCHARGE_AFTER,  # discharge of the first
        at(100 + 10 * day),  # its outcome: known at the next admission
        at(100 + 10 * day) + DISCHARGE_AFTER,
        at(100 + 10 * day) + OUTCOME_WINDOW,  # the second's outcome: end of its window
        at(100 + 100 * day) + DISCHARGE_AFTER,  # the third has no known outcome: no event
    ]
    assert ev["prior_encounters"].to_list() == [1, 1, 2, 2, 3]
    assert ev["prior_readmitted_30"].to_list() == [None, 1, 1, 1, 1]
    assert ev["prior_readmitted"].to_list() == [None, 1, 1, 2, 2]
    first, second, third = 100, 100 + 10 * day, 100 + 100 * day
    assert ev["last_encounter_id"].to_list() == [first, first, second, second, third]


def test_point_in_time_over_events_equals_batch_history() -> None:
    frame = encounters(
        [
            (i * 997 % 5000 + 1, i % 4, i % 9 + 1, ["<30", ">30", "NO", None][i % 4])
            for i in range(40)
        ]
    )
    ev = history_events(frame).sort(["patient_nbr", "event_time"])
    from modelyard.adherence.history import admission_time

    entities = frame.select(
        "patient_nbr", admission_time(pl.col("encounter_id")).alias("t")
    ).with_row_index("_row")
    joined = (
        entities.sort(["patient_nbr", "t"])
        .join_asof(ev, left_on="t", right_on="event_time", by="patient_nbr", check_sortedness=False)
        .sort("_row")
    )
    got = fill_absent(joined.select(GROUP_FEATURES), joined["event_time"].is_not_null())
    assert_frame_equal(got, batch_history(frame))


def test_combine_adds_the_batch_to_the_stored_state() -> None:
    whole = encounters([(10, 1, 2, "<30"), (20, 1, 3, "NO"), (30, 1, 4, None), (40, 1, 1, None)])
    before, batch = whole.head(2), whole.tail(2)
    # the stored state after the first two encounters = history of a later encounter
    state = batch_history(pl.concat([before, encounters([(25, 1, 0, None)])])).tail(1)
    base = pl.concat([state, state])
    got = combine(base, batch_history(batch))
    assert_frame_equal(got, batch_history(whole).tail(2))


def test_missing_columns_are_named() -> None:
    with pytest.raises(InvalidInputError, match="time_in_hospital"):
        batch_history(pl.DataFrame({"encounter_id": [1], "patient_nbr": [1]}))


def test_spec_is_stable() -> None:
    spec = history_spec()
    assert spec.entity_key == ("patient_nbr",)
    assert spec.feature_names == list(GROUP_FEATURES)
    assert spec.fingerprint() == history_spec().fingerprint()


def test_a_model_trained_with_the_old_feature_name_still_predicts(models: dict) -> None:
    """Models registered before ``prior_positive`` became ``prior_readmitted_30`` score
    the same batch exactly as the renamed model does."""
    from modelyard.adherence import TrainedModel, predict
    from tests.uci import uci_sample

    model = models["lightgbm"]
    files = model.to_artifacts()
    old = {
        name: data.replace(b"prior_readmitted_30", b"prior_positive")
        for name, data in files.items()
    }
    assert old["manifest.json"] != files["manifest.json"]
    legacy = TrainedModel.from_artifacts(old)
    assert "prior_positive" in legacy.feature_names
    batch = uci_sample(400)
    now = predict(model, batch, level="encounter", risk_factors=False)
    then = predict(legacy, batch, level="encounter", risk_factors=False)
    assert_frame_equal(now.drop("model_version"), then.drop("model_version"))


def test_a_duplicated_encounter_is_refused_not_counted_twice() -> None:
    frame = encounters([(10, 1, 2, "NO"), (10, 1, 2, "NO"), (20, 1, 1, None)])
    with pytest.raises(InvalidInputError, match="encounter_id 10 appears more than once"):
        history_events(frame)
    with pytest.raises(InvalidInputError, match="encounter_id 10 appears more than once"):
        batch_history(frame)
