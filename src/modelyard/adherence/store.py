"""The adherence patient history in the feature store: publish, read point in time, read online.

Training reads each encounter's history **point in time** (the group's snapshot at the
encounter's admission), real-time prediction reads the **online** snapshot of each patient and
adds the batch's own earlier encounters; both equal :func:`~modelyard.adherence.history.
batch_history` over the whole data (property tests:
``tests/properties/test_p18_adherence_history_consistency.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from modelyard.adherence.history import (
    ADMITTED,
    ENCOUNTERS_GROUP,
    EVENT_TIME,
    GROUP_FEATURES,
    HISTORY_GROUP,
    LAST_ENCOUNTER,
    PATIENT,
    RECORD_COLUMNS,
    admission_time,
    batch_history,
    combine,
    encounter_records,
    encounters_spec,
    fill_absent,
    history_events,
    history_spec,
)
from modelyard.errors import ConflictError
from modelyard.features.model import INGESTED_AT, FeaturePin, Ingestion, Materialization

if TYPE_CHECKING:
    from modelyard.features.service import FeatureService

__all__ = ["PatientHistoryStore", "PublishResult"]


@dataclass(frozen=True)
class PublishResult:
    """What :meth:`PatientHistoryStore.publish` did."""

    pin: FeaturePin
    source: str
    encounters: int
    snapshots: int
    ingestion: Ingestion | None  # None: this source was published before (nothing written)
    materialization: Materialization | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.pin.group,
            "version": self.pin.version,
            "fingerprint": self.pin.fingerprint,
            "source": self.source,
            "encounters": self.encounters,
            "snapshots": self.snapshots,
            "published": self.ingestion is not None,
            "ingestion": None if self.ingestion is None else self.ingestion.to_dict(),
            "materialization": (
                None if self.materialization is None else self.materialization.to_dict()
            ),
        }


class PatientHistoryStore:
    """The ``adherence_patient_history`` feature group, over a :class:`FeatureService`.

    Every call goes through the service, so it is authorized and audited like any feature
    read or write.
    """

    def __init__(self, features: FeatureService) -> None:
        self._features = features

    def ensure(self) -> FeaturePin:
        """Apply the group definitions (idempotent) and pin the history's current version.

        Two writers creating the groups at once: the loser's plan is stale (ConflictError);
        planning again finds the groups as the winner made them, and changes nothing.
        """
        for attempt in range(3):
            try:
                self._features.apply([history_spec(), encounters_spec()])
                break
            except ConflictError:
                if attempt == 2:
                    raise
        return self._features.pin([HISTORY_GROUP])[0]

    def publish(
        self, frame: pl.DataFrame, *, source: str, materialize: bool = True
    ) -> PublishResult:
        """Add the encounters of ``frame`` to their patients' histories (and materialize).

        The encounters published before (kept in :data:`ENCOUNTERS_GROUP`) and those of
        ``frame`` are merged per patient (an encounter published again takes its new
        values: a correction), each affected patient's timeline is recomputed from all of
        them, and written. A stored snapshot at a time the new timeline has no event gets a
        correction with the new timeline's state at that time, so nothing stale surfaces.
        Reads ``as_of`` an earlier time still see what they saw. Publish in any order and
        in any pieces: the result is the history of everything published.

        ``source`` names the data (``dataset:NAME@V``, ``file:sha256:…``): when the latest
        publication came from the same source, nothing is written again.

        The encounters are written before the history: a crash in between leaves the
        history one publication behind, and the next publication of those patients (or the
        same one again) brings it up to date.
        """
        pin = self.ensure()
        ingestions = self._features.ingestions(pin.group, pin.version)
        ingestion = None
        records = encounter_records(frame)
        snapshots = 0
        if not ingestions or ingestions[-1].source != source:
            (enc,) = self._features.pin([ENCOUNTERS_GROUP])
            merged = self._merged(records, enc)
            self._features.ingest(enc.group, records, version=enc.version, source=source)
            events = self._with_corrections(history_events(merged), pin)
            snapshots = events.height
            ingestion = self._features.ingest(pin.group, events, version=pin.version, source=source)
        mat = self._features.materialize(pin.group, pin.version) if materialize else None
        return PublishResult(pin, source, frame.height, snapshots, ingestion, mat)

    def _merged(self, records: pl.DataFrame, enc: FeaturePin) -> pl.DataFrame:
        """The stored encounters of the patients in ``records`` (the latest ingestion of each)
        with ``records`` replacing any it publishes again."""
        stored = (
            self._features.scan(enc.group, enc.version)
            .join(records.select(PATIENT).unique().lazy(), on=PATIENT, how="semi")
            .sort(INGESTED_AT)
            .unique([PATIENT, EVENT_TIME], keep="last")
            .join(records.select(PATIENT, EVENT_TIME).lazy(), on=[PATIENT, EVENT_TIME], how="anti")
            .select(records.columns)
            .collect()
        )
        return pl.concat([stored, records]).select(RECORD_COLUMNS)

    def _with_corrections(self, events: pl.DataFrame, pin: FeaturePin) -> pl.DataFrame:
        stored = (
            self._features.scan(pin.group, pin.version)
            .select(PATIENT, EVENT_TIME)
            .join(events.select(PATIENT).unique().lazy(), on=PATIENT, how="semi")
            .unique()
            .join(events.select(PATIENT, EVENT_TIME).lazy(), on=[PATIENT, EVENT_TIME], how="anti")
            .collect()
        )
        if stored.height == 0:
            return events
        # sorted by (patient, time): each patient's rows are in time order, as "by" needs
        state = stored.sort([PATIENT, EVENT_TIME]).join_asof(
            events.sort([PATIENT, EVENT_TIME]),
            on=EVENT_TIME,
            by=PATIENT,
            strategy="backward",
            check_sortedness=False,
        )
        present = state.get_column(GROUP_FEATURES[0]).is_not_null()
        fixes = pl.concat(
            [state.select(PATIENT, EVENT_TIME), fill_absent(state, present)], how="horizontal"
        )
        return pl.concat([events, fixes]).sort([PATIENT, EVENT_TIME])

    def point_in_time(self, frame: pl.DataFrame, pin: FeaturePin) -> pl.DataFrame:
        """Each encounter's history as the group held it at the encounter's admission:
        :data:`GROUP_FEATURES`, one row per row of ``frame``, in order."""
        entities = frame.select(
            pl.col(PATIENT).cast(pl.Int64),
            admission_time(pl.col("encounter_id")).alias(ADMITTED),
        )
        got = self._features.get_historical_features(
            entities, [pin], timestamp=ADMITTED, with_times=True
        )
        present = got.get_column(f"{pin.group}__event_time").is_not_null()
        return fill_absent(got.select(GROUP_FEATURES), present)

    def for_prediction(self, frame: pl.DataFrame, pin: FeaturePin) -> pl.DataFrame:
        """Each encounter's history for real-time prediction: the patient's online snapshot
        plus the earlier encounters of the same patient in ``frame``.

        A patient whose stored history already reaches the batch (their latest stored
        encounter is not before their first one in ``frame``: the batch is being re-scored)
        is read point in time instead, so an encounter never sees itself or a later one.
        """
        patients = frame.get_column(PATIENT).cast(pl.Int64)
        ids = frame.get_column("encounter_id").cast(pl.Int64)
        unique = patients.unique(maintain_order=True)
        values = self._features.online(pin.group, pin.version).get_many(unique.to_list())
        online = pl.DataFrame(
            [v if v is not None else dict.fromkeys(GROUP_FEATURES) for v in values],
            schema=dict.fromkeys(GROUP_FEATURES, pl.Int64),
        )
        present = pl.Series([v is not None for v in values], dtype=pl.Boolean)
        if unique.len() == patients.len():  # one encounter per patient (real time): no join
            first = ids
        else:
            pos = (
                patients.to_frame()
                .join(unique.to_frame().with_row_index("_pos"), on=PATIENT, how="left")
                .get_column("_pos")
            )
            online = online.select(pl.all().gather(pos))
            present = present.gather(pos)
            first = frame.select(
                pl.col("encounter_id").cast(pl.Int64).min().over(PATIENT)
            ).to_series()
        base = fill_absent(online, present)
        out = combine(base, batch_history(frame))
        stale = (online.get_column(LAST_ENCOUNTER) >= first).fill_null(False)
        if stale.any():
            idx = stale.arg_true()
            past = self.point_in_time(frame.select(pl.all().gather(idx)), pin)
            out = out.with_row_index("_row").update(
                past.with_columns(idx.alias("_row")), on="_row", include_nulls=True
            )
            out = out.drop("_row")
        return out
