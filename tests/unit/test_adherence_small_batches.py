"""Small batches take the cheap paths (cached expressions, one-pass checks) and still give the
same results as before: a 1-row batch predicts exactly what the row gets inside a larger
batch, and bad input is refused with the same messages."""

from __future__ import annotations

import gc
import io
from collections.abc import Callable

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from modelyard.adherence import (
    TrainedModel,
    build_features,
    coerce_frame,
    load_uci,
    predict,
    predict_proba,
)
from modelyard.adherence.features import diagnosis_group
from modelyard.adherence.history import batch_history
from modelyard.adherence.model import _ENCODERS, OTHER, Preprocessor
from modelyard.adherence.schema import MEDICATION_COLUMNS, MISSING
from modelyard.errors import InvalidInputError
from tests.uci import uci_raw_csv


@pytest.fixture(scope="module")
def whole(sample: pl.DataFrame) -> pl.DataFrame:
    """A batch with a returning patient, an unseen category and an all-missing row."""
    base = sample.slice(1000, 120)
    first = base.row(0, named=True)
    again = {**first, "encounter_id": int(base["encounter_id"].max()) + 1}  # same patient
    odd = base.slice(5, 1).with_columns(
        pl.lit("Martian").alias("race"), pl.lit("Astrology").alias("medical_specialty")
    )
    row = base.slice(7, 1)
    blank = row.select(
        pl.col("encounter_id") + 10_000_000,
        "patient_nbr",
        *(
            pl.lit(None, dtype=row.schema[c]).alias(c)
            for c in row.columns
            if c not in ("encounter_id", "patient_nbr")
        ),
    )
    blank = coerce_frame(blank.select(row.columns))
    return pl.concat(
        [base.slice(0, 5), odd, base.slice(6), pl.DataFrame([again], schema=base.schema), blank]
    )


def _picked(whole: pl.DataFrame) -> list[int]:
    return [0, 5, 6, 7, 50, whole.height - 2, whole.height - 1]


@pytest.mark.parametrize("kind", ["lightgbm", "logistic"])
@pytest.mark.parametrize("level", ["brand", "encounter"])
def test_one_row_predicts_what_it_gets_in_the_batch(
    models: dict[str, TrainedModel], whole: pl.DataFrame, kind: str, level: str
) -> None:
    model = models[kind]
    history = batch_history(whole)
    batch = predict(model, whole, level=level, history=history)  # type: ignore[arg-type]
    fast = predict_proba(model, whole, level=level, history=history)  # type: ignore[arg-type]
    flags = batch.filter(pl.col("flags").list.len() > 0)["flags"].explode().unique().to_list()
    assert "unseen:race=Martian" in flags
    assert "all_features_missing" in flags
    assert history["prior_encounters"][whole.height - 2] >= 1  # the returning patient
    for i in _picked(whole):
        one = whole.slice(i, 1)
        enc = one["encounter_id"][0]
        got = predict(model, one, level=level, history=history.slice(i, 1))  # type: ignore[arg-type]
        assert_frame_equal(got, batch.filter(pl.col("encounter_id") == enc), check_exact=True)
        got_fast = predict_proba(
            model,
            one,
            level=level,  # type: ignore[arg-type]
            history=history.slice(i, 1),
        )
        assert_frame_equal(got_fast, fast.filter(pl.col("encounter_id") == enc), check_exact=True)


def test_coerced_frames_predict_the_same(
    models: dict[str, TrainedModel], whole: pl.DataFrame
) -> None:
    model = models["lightgbm"]
    raw = whole.with_columns(pl.col("time_in_hospital").cast(pl.String), pl.lit(1).alias("x"))
    typed = coerce_frame(raw)
    expected = predict(model, raw, extra_columns="ignore")
    assert_frame_equal(predict(model, typed, extra_columns="ignore", coerced=True), expected)
    assert_frame_equal(
        predict_proba(model, typed, extra_columns="ignore", coerced=True),
        predict_proba(model, raw, extra_columns="ignore"),
    )
    with pytest.raises(InvalidInputError, match="unknown column"):
        predict(model, typed, coerced=True)  # the batch checks still run


def test_coerce_frame_of_a_typed_frame_is_the_same_frame(sample: pl.DataFrame) -> None:
    raw = pl.read_csv(io.StringIO(uci_raw_csv(3000)), infer_schema=False)
    typed = coerce_frame(raw)
    assert_frame_equal(typed, sample)
    again = coerce_frame(typed)
    assert again is not typed
    assert_frame_equal(again, typed)
    nulls = typed.head(3).with_columns(pl.lit(None, dtype=pl.String).alias("insulin"))
    assert coerce_frame(nulls)["insulin"].to_list() == [MISSING] * 3
    ints = typed.head(3).with_columns(pl.col("num_procedures").cast(pl.Int32))
    assert_frame_equal(coerce_frame(ints), typed.head(3))


def _set(
    column: str, value: object, *, row: int | None = None
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def apply(frame: pl.DataFrame) -> pl.DataFrame:
        lit = pl.lit(value)
        if row is None:
            return frame.with_columns(lit.alias(column))
        at = pl.int_range(pl.len()) == row
        return frame.with_columns(pl.when(at).then(lit).otherwise(pl.col(column)).alias(column))

    return apply


def _raw(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.all().cast(pl.String))


def _both(*steps: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def apply(frame: pl.DataFrame) -> pl.DataFrame:
        for step in steps:
            frame = step(frame)
        return frame

    return apply


MEDICATION_HINT = "medication columns say whether a brand is taken and how its dose changed"
BAD_INPUT = [
    (
        lambda f: f.drop("insulin", "race"),
        "data lacks 2 required column(s): race, insulin",
        "the batch needs every column of the UCI diabetic_data.csv "
        "(the label column 'readmitted' is needed for training only)",
    ),
    (
        _set("time_in_hospital", True),
        "column 'time_in_hospital' must hold whole numbers, found type Boolean",
        "fix the column type in the input file",
    ),
    (
        _set("race", True),
        "column 'race' must hold text, found type Boolean",
        "fix the column type in the input file",
    ),
    (
        _both(_set("race", True), _set("number_diagnoses", True)),
        "column 'number_diagnoses' must hold whole numbers, found type Boolean",
        "fix the column type in the input file",
    ),
    (
        _both(_raw, _set("time_in_hospital", " three ", row=0)),
        "column 'time_in_hospital' must hold whole numbers, found 'three' (1 bad value(s))",
        "fix or drop those rows",
    ),
    (
        _both(_set("time_in_hospital", 2.5)),
        "column 'time_in_hospital' must hold whole numbers, found 2.5 ({n} bad value(s))",
        "fix or drop those rows",
    ),
    (
        _both(
            _raw, _set("number_diagnoses", "x"), _set("encounter_id", "y"), _set("metformin", "Z")
        ),
        "column 'encounter_id' must hold whole numbers, found 'y' ({n} bad value(s))",
        "fix or drop those rows",
    ),
    (
        _both(_raw, _set("encounter_id", MISSING, row=0)),
        "1 row(s) have no encounter_id",
        "every row needs an encounter_id; drop rows without one",
    ),
    (
        _both(_set("patient_nbr", None), _set("metformin", "Sideways")),
        "{n} row(s) have no patient_nbr",
        "every row needs an patient_nbr; drop rows without one",
    ),
    (
        _both(_set("insulin", "More", row=0), _set("acarbose", "Less", row=0)),
        "medication column 'acarbose' holds 'Less'; allowed: No, Steady, Up, Down "
        "(or '?' for missing)",
        MEDICATION_HINT,
    ),
    (
        _set("glipizide", 1),
        "medication column 'glipizide' holds '1'; allowed: No, Steady, Up, Down "
        "(or '?' for missing)",
        MEDICATION_HINT,
    ),
]


@pytest.mark.parametrize("n_rows", [1, 40])
@pytest.mark.parametrize(("make", "message", "hint"), BAD_INPUT)
def test_bad_input_messages_are_unchanged(
    models: dict[str, TrainedModel],
    sample: pl.DataFrame,
    n_rows: int,
    make: Callable[[pl.DataFrame], pl.DataFrame],
    message: str,
    hint: str,
) -> None:
    bad = make(sample.slice(200, n_rows))
    expected = message.format(n=n_rows)
    for call in (
        lambda: coerce_frame(bad),
        lambda: load_uci(bad),
        lambda: predict(models["lightgbm"], bad),
        lambda: predict_proba(models["lightgbm"], bad, extra_columns="ignore"),
    ):
        with pytest.raises(InvalidInputError) as info:
            call()
        assert str(info.value) == expected
        assert info.value.hint == hint


def test_batch_refusals_are_unchanged(
    models: dict[str, TrainedModel], sample: pl.DataFrame
) -> None:
    model = models["lightgbm"]
    one = sample.slice(10, 1)
    with pytest.raises(InvalidInputError) as info:
        predict(model, pl.concat([one, one]))
    assert (
        str(info.value)
        == f"encounter_id {one['encounter_id'][0]} appears more than once in the batch"
    )
    with pytest.raises(InvalidInputError) as info:
        predict(model, one.with_columns(pl.lit(1).alias("surprise")))
    assert str(info.value) == "the batch has 1 unknown column(s): surprise"
    with pytest.raises(InvalidInputError) as info:
        predict(model, one.head(0))
    assert str(info.value) == "the batch has no rows"


def _reference_group(code: pl.Expr) -> pl.Expr:
    """The comparison chain diagnosis_group() replaced (the oracle)."""
    num = code.cast(pl.Float64, strict=False)
    whole = num.floor()

    def between(lo: float, hi: float) -> pl.Expr:
        return (num >= lo) & (num < hi)

    return (
        pl.when(code.is_null() | (code == MISSING))
        .then(pl.lit("missing"))
        .when(code.str.starts_with("V"))
        .then(pl.lit("supplementary_v"))
        .when(code.str.starts_with("E"))
        .then(pl.lit("external_e"))
        .when(whole == 250)
        .then(pl.lit("diabetes"))
        .when(between(390, 460) | (whole == 785))
        .then(pl.lit("circulatory"))
        .when(between(460, 520) | (whole == 786))
        .then(pl.lit("respiratory"))
        .when(between(520, 580) | (whole == 787))
        .then(pl.lit("digestive"))
        .when(between(800, 1000))
        .then(pl.lit("injury"))
        .when(between(710, 740))
        .then(pl.lit("musculoskeletal"))
        .when(between(580, 630) | (whole == 788))
        .then(pl.lit("genitourinary"))
        .when(between(140, 240))
        .then(pl.lit("neoplasms"))
        .otherwise(pl.lit("other"))
    )


def test_diagnosis_group_follows_the_reference_rules(sample: pl.DataFrame) -> None:
    seen = pl.concat([sample["diag_1"], sample["diag_2"], sample["diag_3"]]).unique()
    edges = [
        *(str(v) for b in (140, 240, 250, 251, 390, 460, 520, 580, 630) for v in (b - 0.01, b)),
        *(str(v) for b in (710, 740, 785, 786, 787, 788, 789, 800, 1000) for v in (b - 0.01, b)),
        *("", "?", "V", "E", "v57", "e888", "nan", "inf", "-inf", "-5", "1e3", " 250", "abc"),
    ]
    codes = pl.DataFrame(
        {"c": pl.concat([seen, pl.Series(edges), pl.Series([None], dtype=pl.String)])}
    )
    got = codes.select(diagnosis_group(pl.col("c")).alias("g"))["g"]
    expected = codes.select(_reference_group(pl.col("c")).alias("g"))["g"]
    assert got.to_list() == expected.to_list()


def test_encoders_follow_their_preprocessor(
    models: dict[str, TrainedModel], sample: pl.DataFrame
) -> None:
    pre = models["lightgbm"].preprocessor
    feats = build_features(sample.slice(300, 60), models["lightgbm"].config, with_label=False)
    x, flags = pre.transform(feats)
    copy = Preprocessor.model_validate(pre.model_dump())
    assert_frame_equal(copy.transform(feats)[1].to_frame(), flags.to_frame())
    np.testing.assert_array_equal(copy.transform(feats)[0], x)
    # one kept level less: its value becomes a rare one (code __other__, not flagged)
    name = "race"
    values = feats.rows[name]
    dropped = values.mode().sort()[0]
    levels = {**pre.levels, name: tuple(v for v in pre.levels[name] if v != dropped)}
    assert levels[name][-1] == OTHER
    fewer = Preprocessor.model_validate({**pre.model_dump(), "levels": levels})
    x2, flags2 = fewer.transform(feats)
    col = pre.feature_names.index(name)
    code = {v: float(i) for i, v in enumerate(levels[name][:-1])}
    other = float(len(levels[name]) - 1)
    np.testing.assert_array_equal(x2[:, col], [code.get(v, other) for v in values.to_list()])
    assert (x2[(values == dropped).to_numpy(), col] == other).all()
    assert flags2.to_list() == flags.to_list()
    rest = [j for j in range(x.shape[1]) if j != col]
    np.testing.assert_array_equal(x2[:, rest], x[:, rest])
    key = id(fewer)
    assert key in _ENCODERS
    del fewer
    gc.collect()
    assert key not in _ENCODERS


def test_medication_codes_match_the_text_rules(sample: pl.DataFrame) -> None:
    """Odd medication values (null, outside the vocabulary) count as before: a value other
    than No/? makes a brand count in n_brands, only Steady/Up/Down make a brand row."""
    frame = sample.slice(0, 30).with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.lit("Weird"))
        .otherwise("insulin")
        .alias("insulin"),
        pl.when(pl.int_range(pl.len()) % 4 == 0)
        .then(None)
        .otherwise("metformin")
        .alias("metformin"),
    )
    feats = build_features(frame, with_label=False)
    meds = [pl.col(m) for m in MEDICATION_COLUMNS]
    expected = frame.select(
        pl.sum_horizontal([((m != "No") & (m != MISSING)).cast(pl.Int32) for m in meds]).alias(
            "n_brands"
        ),
        pl.sum_horizontal([(m == "Up").cast(pl.Int32) for m in meds]).alias("n_dose_up"),
        pl.sum_horizontal([(m == "Down").cast(pl.Int32) for m in meds]).alias("n_dose_down"),
    )
    assert_frame_equal(feats.encounters.select(expected.columns), expected)
    taken = frame.select(pl.sum_horizontal([m.is_in(["Steady", "Up", "Down"]) for m in meds]))
    per_encounter = feats.brands.filter(pl.col("brand") != "").group_by("_enc").len()
    assert int(per_encounter["len"].sum()) == int(taken.to_series().sum())
