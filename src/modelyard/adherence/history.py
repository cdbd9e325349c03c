"""The patient history of the adherence use case, as point-in-time feature-store events.

One definition serves three readers, so training and serving see the same values:

- :func:`batch_history`: from the earlier encounters of the same patient in a frame (the
  default when no feature store is involved);
- :func:`history_events`: the same history as a timeline of snapshots, one row per change,
  to ingest into the feature group :data:`HISTORY_GROUP` (keyed by ``patient_nbr``); a
  point-in-time read at an encounter's admission gives exactly :func:`batch_history`;
- :func:`combine`: what the online store holds for a patient (their published history) plus
  the earlier encounters of the batch being scored, for real-time prediction.

**The clock.** The UCI data has no dates; ``encounter_id`` order is the only time proxy. An
encounter is *admitted* at ``1999-01-01T00:00:00Z + encounter_id seconds`` (the ids run from
12,522 to 443,867,166, so the clock keeps their order and spans ~14 years), and its facts
(one more encounter, its length of stay, the prior-year visit counts it reports) are known at
*discharge*, half a second later, before any later encounter is admitted.

**When an outcome is known (no look-ahead).** Encounter *k*'s readmission outcome
(``readmitted``: ``<30``, ``>30`` or ``NO``) is published at the earlier of

- the admission of the same patient's next encounter: by then it is known either way (this
  admission is the readmission, or the 30-day window has passed), and
- the end of its 30-day outcome window (:data:`OUTCOME_WINDOW` after admission).

So a point-in-time read at an encounter's admission sees the outcome of every earlier
encounter of the patient and never the encounter's own; an unknown outcome (missing label)
is never published.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from modelyard.adherence.schema import LABEL_COLUMN
from modelyard.errors import InvalidInputError
from modelyard.features.model import Feature, FeatureGroupSpec, FeatureType

__all__ = [
    "ADMITTED",
    "DISCHARGE_AFTER",
    "ENCOUNTERS_GROUP",
    "ENCOUNTER_EPOCH",
    "EVENT_TIME",
    "GROUP_FEATURES",
    "HISTORY_GROUP",
    "MODEL_HISTORY",
    "OUTCOME_WINDOW",
    "admission_time",
    "batch_history",
    "combine",
    "encounter_records",
    "encounters_spec",
    "fill_absent",
    "history_events",
    "history_spec",
    "model_history",
]

HISTORY_GROUP = "adherence_patient_history"
ENCOUNTERS_GROUP = "adherence_patient_encounters"
"""The encounters published so far (the inputs of the history), so that a later publication
can add encounters to a patient's history instead of replacing it."""
PATIENT = "patient_nbr"
EVENT_TIME = "event_time"
ADMITTED = "admitted_at"
ENCOUNTER_EPOCH = datetime(1999, 1, 1, tzinfo=UTC)
DISCHARGE_AFTER = timedelta(milliseconds=500)
OUTCOME_WINDOW = timedelta(days=30)

COUNT_FEATURES = ("prior_encounters", "prior_time_in_hospital", "prior_outcomes_known")
OUTCOME_FEATURES = ("prior_readmitted_30", "prior_readmitted")
VISIT_FEATURES = ("prior_year_outpatient", "prior_year_emergency", "prior_year_inpatient")
LAST_ENCOUNTER = "last_encounter_id"
GROUP_FEATURES = (*COUNT_FEATURES, *OUTCOME_FEATURES, *VISIT_FEATURES, LAST_ENCOUNTER)
"""The features of the group, in order."""

_VISIT_SOURCE = {
    "prior_year_outpatient": "number_outpatient",
    "prior_year_emergency": "number_emergency",
    "prior_year_inpatient": "number_inpatient",
}
_NEEDED = ("encounter_id", PATIENT, "time_in_hospital", *_VISIT_SOURCE.values())

_DESCRIPTIONS = {
    "prior_encounters": "earlier encounters of the patient (discharged)",
    "prior_time_in_hospital": "days in hospital over the earlier encounters",
    "prior_outcomes_known": "earlier encounters whose readmission outcome is known",
    "prior_readmitted_30": "earlier encounters followed by a readmission within 30 days "
    "(null when no earlier outcome is known yet)",
    "prior_readmitted": "earlier encounters followed by a readmission at any time "
    "(null when no earlier outcome is known yet)",
    "prior_year_outpatient": "outpatient visits in the year before the latest encounter, "
    "as reported at that encounter",
    "prior_year_emergency": "emergency visits in the year before the latest encounter, "
    "as reported at that encounter",
    "prior_year_inpatient": "inpatient visits in the year before the latest encounter, "
    "as reported at that encounter",
    "last_encounter_id": "the patient's latest discharged encounter",
}

MODEL_HISTORY = (
    "prior_encounters",
    "prior_time_in_hospital",
    *VISIT_FEATURES,
)
"""History features every adherence model uses (the outcome ones only if configured)."""


def history_spec(*, owner: str = "adherence") -> FeatureGroupSpec:
    """The feature group definition of the patient history (apply it before ingesting)."""
    nullable = {*OUTCOME_FEATURES, *VISIT_FEATURES, LAST_ENCOUNTER}
    return FeatureGroupSpec(
        name=HISTORY_GROUP,
        entity_key=(PATIENT,),
        event_time=EVENT_TIME,
        description=(
            "Patient history before an encounter: earlier encounters, days in hospital, "
            "30-day and any readmissions, prior-year visit counts (UCI diabetes; "
            "clock: 1999-01-01 + encounter_id seconds)"
        ),
        owner=owner,
        tags={"use_case": "adherence", "source": "uci-diabetes"},
        features=tuple(
            Feature(
                name=name,
                dtype=FeatureType.INT64,
                nullable=name in nullable,
                description=_DESCRIPTIONS[name],
            )
            for name in GROUP_FEATURES
        ),
    )


RECORD_COLUMNS = (*_NEEDED, LABEL_COLUMN)
"""The columns of an encounter the history is computed from."""


def encounters_spec(*, owner: str = "adherence") -> FeatureGroupSpec:
    """The feature group of published encounters (the history's inputs), keyed by patient,
    one row per encounter at its admission time. A raw record, not a model feature: it holds
    each encounter's outcome, known only later (the history group publishes it then)."""
    types = {c: FeatureType.INT64 for c in _NEEDED if c != PATIENT}
    types[LABEL_COLUMN] = FeatureType.STRING
    return FeatureGroupSpec(
        name=ENCOUNTERS_GROUP,
        entity_key=(PATIENT,),
        event_time=EVENT_TIME,
        description=(
            "Encounters published to the adherence patient history (its inputs; the "
            "outcome column is the raw label, not a point-in-time feature)"
        ),
        owner=owner,
        tags={"use_case": "adherence", "source": "uci-diabetes", "kind": "raw"},
        features=tuple(
            Feature(name=c, dtype=t, nullable=c not in ("encounter_id", "time_in_hospital"))
            for c, t in types.items()
        ),
    )


def encounter_records(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` as :data:`ENCOUNTERS_GROUP` rows (admission time, inputs)."""
    _inputs(frame)  # the same checks as the history itself
    label = (
        pl.col(LABEL_COLUMN).cast(pl.String)
        if LABEL_COLUMN in frame.columns
        else pl.lit(None, dtype=pl.String).alias(LABEL_COLUMN)
    )
    return frame.select(
        pl.col(PATIENT).cast(pl.Int64),
        admission_time(pl.col("encounter_id")).alias(EVENT_TIME),
        pl.col("encounter_id").cast(pl.Int64),
        pl.col("time_in_hospital").cast(pl.Int64).fill_null(0),
        *(pl.col(c).cast(pl.Int64) for c in _VISIT_SOURCE.values()),
        label,
    )


def admission_time(encounter_id: pl.Expr) -> pl.Expr:
    """The synthetic admission time of an encounter (UTC, microseconds)."""
    epoch = pl.lit(ENCOUNTER_EPOCH).cast(pl.Datetime("us", "UTC"))
    return epoch + pl.duration(seconds=encounter_id.cast(pl.Int64))


def _inputs(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"patient history needs the column(s) {missing}",
            hint="pass UCI-shaped encounters (see modelyard.adherence.load_uci)",
        )
    if frame.get_column("encounter_id").null_count() or frame.get_column(PATIENT).null_count():
        raise InvalidInputError(
            "patient history needs an encounter_id and a patient_nbr on every row",
            hint="drop or fix the rows without them",
        )
    ids = frame.get_column("encounter_id")
    if ids.is_duplicated().any():
        dup = ids.filter(ids.is_duplicated()).head(1).to_list()[0]
        raise InvalidInputError(
            f"encounter_id {dup} appears more than once; a patient history counts each "
            "encounter once",
            hint="drop the duplicated rows (keep one row per encounter)",
        )
    if LABEL_COLUMN in frame.columns:
        label = frame.get_column(LABEL_COLUMN).cast(pl.String)
    else:
        label = pl.Series(LABEL_COLUMN, [None] * frame.height, dtype=pl.String)
    return frame.select(
        pl.col("encounter_id").cast(pl.Int64),
        pl.col(PATIENT).cast(pl.Int64),
        pl.col("time_in_hospital").cast(pl.Int64).fill_null(0).alias("_tih"),
        *(pl.col(src).cast(pl.Int64).alias(name) for name, src in _VISIT_SOURCE.items()),
        label.is_in(["<30", ">30", "NO"]).fill_null(False).cast(pl.Int64).alias("_known"),
        (label == "<30").fill_null(False).cast(pl.Int64).alias("_r30"),
        label.is_in(["<30", ">30"]).fill_null(False).cast(pl.Int64).alias("_rany"),
    )


def _null_unknown_outcomes() -> list[pl.Expr]:
    """Outcome sums are null when earlier encounters exist but none has a known outcome."""
    unknown = (pl.col("prior_outcomes_known") == 0) & (pl.col("prior_encounters") > 0)
    return [pl.when(unknown).then(None).otherwise(pl.col(c)).alias(c) for c in OUTCOME_FEATURES]


def batch_history(frame: pl.DataFrame) -> pl.DataFrame:
    """Each row's history from the earlier encounters (smaller ``encounter_id``) of the same
    patient in ``frame``: the :data:`GROUP_FEATURES`, one row per input row, in input order.

    A patient's first encounter has zero counts and null visit counts / last encounter.
    """
    data = _inputs(frame)
    if not data.get_column(PATIENT).is_duplicated().any():
        # every row is its patient's first encounter here (e.g. one real-time request)
        return _first_encounters(data.height)
    # One sort by (patient, encounter), then plain cumulative sums and shifts minus their
    # value at the patient's first row: no per-patient window (``over``) is needed.
    data = data.with_row_index("_row").sort([PATIENT, "encounter_id"])
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    is_start = pl.col(PATIENT) != pl.col(PATIENT).shift(1)
    starts = data.select(
        is_start.fill_null(True).alias("_start"),
        pl.when(is_start.fill_null(True)).then(row).forward_fill().alias("_first"),
    )
    first, start = starts.get_column("_first"), starts.get_column("_start")

    def before(column: str) -> pl.Expr:
        running = pl.col(column).cum_sum() - pl.col(column)  # sum over the rows before
        return running - running.gather(pl.lit(first))

    def previous(column: str) -> pl.Expr:
        return pl.when(pl.lit(start)).then(None).otherwise(pl.col(column).shift(1))

    out = (
        data.select(
            "_row",
            (row - pl.lit(first)).alias("prior_encounters"),
            before("_tih").alias("prior_time_in_hospital"),
            before("_known").alias("prior_outcomes_known"),
            before("_r30").alias("prior_readmitted_30"),
            before("_rany").alias("prior_readmitted"),
            *(previous(name).alias(name) for name in VISIT_FEATURES),
            previous("encounter_id").alias(LAST_ENCOUNTER),
        )
        .with_columns(_null_unknown_outcomes())
        .sort("_row")
    )
    return out.select(GROUP_FEATURES)


def history_events(
    frame: pl.DataFrame, *, outcome_window: timedelta = OUTCOME_WINDOW
) -> pl.DataFrame:
    """The history as snapshots to ingest: ``patient_nbr``, ``event_time`` and the
    :data:`GROUP_FEATURES` after every change (a discharge, an outcome becoming known).

    The snapshots describe only the encounters in ``frame`` (the store merges a publication
    with the encounters published before: :meth:`~modelyard.adherence.store.
    PatientHistoryStore.publish`). A patient's first snapshot is always the discharge of
    their first encounter.
    """
    admitted = admission_time(pl.col("encounter_id"))
    same_patient_next = pl.col(PATIENT) == pl.col(PATIENT).shift(-1)
    # the next admission of the patient, whatever its own outcome (computed before filtering)
    data = (
        _inputs(frame)
        .sort([PATIENT, "encounter_id"])
        .with_columns(pl.when(same_patient_next).then(admitted.shift(-1)).alias("_next"))
    )
    zero = pl.lit(0, dtype=pl.Int64)
    none = pl.lit(None, dtype=pl.Int64)
    discharges = data.select(
        PATIENT,
        (admitted + pl.lit(DISCHARGE_AFTER)).alias(EVENT_TIME),
        pl.lit(1, dtype=pl.Int64).alias("_enc"),
        "_tih",
        zero.alias("_known"),
        zero.alias("_r30"),
        zero.alias("_rany"),
        *VISIT_FEATURES,
        pl.col("encounter_id").alias(LAST_ENCOUNTER),
    )
    outcomes = data.filter(pl.col("_known") == 1).select(
        PATIENT,
        pl.min_horizontal(pl.col("_next"), admitted + pl.lit(outcome_window)).alias(EVENT_TIME),
        zero.alias("_enc"),
        zero.alias("_tih"),
        "_known",
        "_r30",
        "_rany",
        *(none.alias(name) for name in VISIT_FEATURES),
        none.alias(LAST_ENCOUNTER),
    )
    deltas = ("_enc", "_tih", "_known", "_r30", "_rany")
    latest = (*VISIT_FEATURES, LAST_ENCOUNTER)
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    is_start = (pl.col(PATIENT) != pl.col(PATIENT).shift(1)).fill_null(True)
    events = (
        pl.concat([discharges, outcomes])
        .group_by(PATIENT, EVENT_TIME)
        # at most one discharge per instant (encounter ids differ): its values, or nulls
        .agg(*(pl.col(c).sum() for c in deltas), *(pl.col(c).max() for c in latest))
        .sort([PATIENT, EVENT_TIME])
        .with_columns(
            pl.when(is_start).then(row).forward_fill().alias("_first"),
            # the latest discharge so far (a patient's first snapshot is one, so this never
            # reaches back into the previous patient)
            pl.when(pl.col("_enc") > 0).then(row).forward_fill().alias("_discharge"),
        )
    )

    def running(column: str) -> pl.Expr:  # sum over the patient's snapshots so far
        total = pl.col(column).cum_sum()
        return total - (total - pl.col(column)).gather(pl.col("_first"))

    return events.select(
        PATIENT,
        EVENT_TIME,
        running("_enc").alias("prior_encounters"),
        running("_tih").alias("prior_time_in_hospital"),
        running("_known").alias("prior_outcomes_known"),
        running("_r30").alias("prior_readmitted_30"),
        running("_rany").alias("prior_readmitted"),
        *(pl.col(c).gather(pl.col("_discharge")).alias(c) for c in latest),
    ).with_columns(_null_unknown_outcomes())


def _first_encounters(n: int) -> pl.DataFrame:
    """The history of ``n`` first encounters: zero counts and outcomes, nulls elsewhere."""
    zeros = {*COUNT_FEATURES, *OUTCOME_FEATURES}
    return pl.DataFrame(
        {c: [0] * n if c in zeros else [None] * n for c in GROUP_FEATURES},
        schema=dict.fromkeys(GROUP_FEATURES, pl.Int64),
    )


def fill_absent(history: pl.DataFrame, present: pl.Series) -> pl.DataFrame:
    """Rows of a store read where the patient had no snapshot (``present`` false) get the
    history of a first encounter: zero counts and outcomes, null visit counts."""
    absent = ~present
    zeros = (*COUNT_FEATURES, *OUTCOME_FEATURES)
    return history.select(
        *(
            pl.when(absent).then(pl.lit(0, dtype=pl.Int64)).otherwise(pl.col(c)).alias(c)
            if c in zeros
            else pl.col(c).cast(pl.Int64)
            for c in GROUP_FEATURES
        )
    )


def combine(base: pl.DataFrame, batch: pl.DataFrame) -> pl.DataFrame:
    """A stored history (``base``, one row per encounter: the patient's snapshot before the
    batch, filled by :func:`fill_absent`) plus the batch's own earlier encounters
    (``batch``: :func:`batch_history` of the batch). Both carry :data:`GROUP_FEATURES`."""
    b = base.select(GROUP_FEATURES)
    s = batch.select(GROUP_FEATURES).rename(lambda c: f"_s_{c}")
    joined = pl.concat([b, s], how="horizontal")
    in_batch = pl.col(f"_s_{LAST_ENCOUNTER}").is_not_null()
    return joined.select(
        *(
            (pl.col(c).fill_null(0) + pl.col(f"_s_{c}").fill_null(0)).alias(c)
            for c in (*COUNT_FEATURES, *OUTCOME_FEATURES)
        ),
        *(
            pl.when(in_batch).then(pl.col(f"_s_{c}")).otherwise(pl.col(c)).alias(c)
            for c in (*VISIT_FEATURES, LAST_ENCOUNTER)
        ),
    ).with_columns(_null_unknown_outcomes())


def model_history(history: pl.DataFrame, *, outcomes: bool) -> pl.DataFrame:
    """The model's history columns (float) from :data:`GROUP_FEATURES` columns."""
    names: tuple[str, ...] = MODEL_HISTORY + (OUTCOME_FEATURES if outcomes else ())
    return history.select(pl.col(c).cast(pl.Float64) for c in names)


def check_history(history: Any, height: int) -> pl.DataFrame:
    """A caller-supplied history frame: a Polars frame with every group feature, one row per
    encounter of the batch."""
    if not isinstance(history, pl.DataFrame):
        raise InvalidInputError(
            f"history must be a polars DataFrame, got {type(history).__name__}",
            hint="read it with the adherence history store, or leave it out",
        )
    missing = [c for c in GROUP_FEATURES if c not in history.columns]
    if missing:
        raise InvalidInputError(
            f"the history frame lacks {missing}", hint=f"it needs {list(GROUP_FEATURES)}"
        )
    if history.height != height:
        raise InvalidInputError(
            f"the history frame has {history.height} rows for {height} encounters",
            hint="pass one history row per encounter, in the batch's order",
        )
    return history
