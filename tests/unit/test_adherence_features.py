"""Adherence features: ID mapping, ICD-9 groups, labs, brands, history without look-ahead."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.adherence import AdherenceConfig, build_features, load_uci, training_features
from modelyard.adherence.features import diagnosis_group, ids_mapping
from modelyard.adherence.schema import MEDICATION_COLUMNS
from tests.uci import uci_zip


@pytest.fixture(scope="module")
def repeat_patients() -> pl.DataFrame:
    """Encounters of patients with several encounters (history matters for them)."""
    full = load_uci(uci_zip())
    many = full.group_by("patient_nbr").len().filter(pl.col("len") >= 3).head(150)
    return full.join(many.select("patient_nbr"), on="patient_nbr").sort("patient_nbr")


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("250.83", "diabetes"),
        ("250", "diabetes"),
        ("428", "circulatory"),
        ("785", "circulatory"),
        ("486", "respiratory"),
        ("786", "respiratory"),
        ("560", "digestive"),
        ("787", "digestive"),
        ("996", "injury"),
        ("715", "musculoskeletal"),
        ("599", "genitourinary"),
        ("788", "genitourinary"),
        ("174", "neoplasms"),
        ("V57", "supplementary_v"),
        ("E888", "external_e"),
        ("276", "other"),
        ("?", "missing"),
    ],
)
def test_diagnosis_groups(code: str, group: str) -> None:
    out = pl.select(diagnosis_group(pl.lit(code)).alias("g")).item()
    assert out == group


def test_ids_mapping_is_shipped_and_merges_unknowns() -> None:
    mapping = ids_mapping()
    assert mapping["admission_type_id"][1] == "Emergency"
    assert mapping["admission_type_id"][6] == "Unknown"  # NULL
    assert mapping["discharge_disposition_id"][11] == "Expired"
    assert mapping["admission_source_id"][7] == "Emergency Room"


def test_lab_none_is_its_own_category_and_missing_is_another(sample: pl.DataFrame) -> None:
    frame = sample.head(3).with_columns(
        pl.Series("A1Cresult", ["None", ">8", "?"]),
        pl.Series("max_glu_serum", ["None", "Norm", None]),
    )
    enc = build_features(load_uci(frame)).encounters
    assert enc.get_column("A1Cresult").to_list() == ["None", ">8", "?"]
    assert enc.get_column("max_glu_serum").to_list() == ["None", "Norm", "?"]


def test_brand_rows_and_combination_classes(sample: pl.DataFrame) -> None:
    row = sample.head(1).with_columns(*(pl.lit("No").alias(m) for m in MEDICATION_COLUMNS))
    row = row.with_columns(
        pl.lit("Up").alias("glyburide-metformin"),
        pl.lit("Steady").alias("insulin"),
    )
    brands = build_features(load_uci(row)).brands
    assert brands.get_column("brand").to_list() == ["insulin", "glyburide-metformin"]
    combo = brands.filter(pl.col("brand") == "glyburide-metformin").row(0, named=True)
    assert (combo["brand_class"], combo["brand_class_2"]) == ("sulfonylurea", "biguanide")
    assert combo["brand_dose"] == "Up"
    assert combo["n_concurrent_brands"] == 2


def test_no_medication_gives_one_empty_brand_row(sample: pl.DataFrame) -> None:
    row = sample.head(1).with_columns(*(pl.lit("No").alias(m) for m in MEDICATION_COLUMNS))
    brands = build_features(load_uci(row)).brands
    assert brands.height == 1
    assert brands.row(0, named=True)["brand"] == ""
    assert brands.row(0, named=True)["n_concurrent_brands"] == 0


def test_history_counts_earlier_encounters_only() -> None:
    base = load_uci(uci_zip(), n_rows=3)
    frame = base.with_columns(
        pl.Series("encounter_id", [30, 10, 20]),
        pl.lit(5).alias("patient_nbr"),
        pl.Series("readmitted", ["<30", "<30", ">30"]),
        pl.Series("time_in_hospital", [7, 2, 3]),
    )
    enc = build_features(load_uci(frame)).encounters
    got = dict(zip(enc["encounter_id"], enc["prior_encounters"], strict=True))
    assert got == {10: 0, 20: 1, 30: 2}
    pos = dict(zip(enc["encounter_id"], enc["prior_readmitted_30"], strict=True))
    assert pos == {10: 0, 20: 1, 30: 1}  # 10 was <30; 20 (>30) is not positive
    tih = dict(zip(enc["encounter_id"], enc["prior_time_in_hospital"], strict=True))
    assert tih == {10: 0, 20: 2, 30: 5}


def test_death_and_hospice_are_excluded_from_training(sample: pl.DataFrame) -> None:
    feats = training_features(sample, AdherenceConfig())
    kept = set(feats.encounters.get_column("encounter_id").to_list())
    excluded = sample.filter(pl.col("discharge_disposition_id").is_in([11, 13, 14, 19, 20, 21]))
    assert excluded.height > 0
    assert kept.isdisjoint(excluded.get_column("encounter_id").to_list())
    assert len(kept) == sample.height - excluded.height


def _features_by_id(frame: pl.DataFrame) -> dict[int, tuple[object, ...]]:
    enc = build_features(load_uci(frame), with_label=False).encounters
    return {row[0]: row[1:] for row in enc.rows()}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_history_features_never_look_ahead(
    repeat_patients: pl.DataFrame, data: st.DataObject
) -> None:
    """Perturbing later encounters (values, labels, deletion) never changes earlier features."""
    ids = np.sort(repeat_patients.get_column("encounter_id").to_numpy())
    cutoff = int(data.draw(st.sampled_from(ids[len(ids) // 4 : -1].tolist())))
    before = _features_by_id(repeat_patients)
    later = pl.col("encounter_id") > cutoff
    action = data.draw(st.sampled_from(["relabel", "change", "drop", "add"]))
    if action == "relabel":
        label = data.draw(st.sampled_from(["<30", ">30", "NO"]))
        changed = repeat_patients.with_columns(
            pl.when(later).then(pl.lit(label)).otherwise("readmitted").alias("readmitted")
        )
    elif action == "change":
        value = data.draw(st.integers(1, 14))
        changed = repeat_patients.with_columns(
            pl.when(later).then(value).otherwise("time_in_hospital").alias("time_in_hospital"),
            pl.when(later).then(pl.lit("Up")).otherwise("insulin").alias("insulin"),
        )
    elif action == "drop":
        changed = repeat_patients.filter(~later)
    else:
        extra = repeat_patients.head(5).with_columns(
            (pl.int_range(pl.len()) + int(ids.max()) + 1).alias("encounter_id")
        )
        changed = pl.concat([repeat_patients, extra])
    after = _features_by_id(changed)
    for enc_id, feats in before.items():
        if enc_id <= cutoff:
            assert after[enc_id] == feats, (action, enc_id)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(index=st.integers(0, 10_000), label=st.sampled_from(["<30", ">30", "NO"]))
def test_features_do_not_depend_on_the_encounters_own_label(
    repeat_patients: pl.DataFrame, index: int, label: str
) -> None:
    i = index % repeat_patients.height
    enc_id = repeat_patients.get_column("encounter_id")[i]
    changed = repeat_patients.with_columns(
        pl.when(pl.col("encounter_id") == enc_id)
        .then(pl.lit(label))
        .otherwise("readmitted")
        .alias("readmitted")
    )
    assert _features_by_id(changed)[enc_id] == _features_by_id(repeat_patients)[enc_id]
