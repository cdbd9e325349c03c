"""Adherence config: defaults, YAML, validation, label rules (PDC-style plug-in)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from modelyard.adherence import AdherenceConfig, label_series, train
from modelyard.errors import InvalidInputError


def test_defaults_match_the_use_case() -> None:
    config = AdherenceConfig()
    assert config.label.column == "readmitted"
    assert config.label.rule == "in"
    assert config.label.values == ("<30",)
    assert set(config.excluded_discharge_ids) == {11, 13, 14, 19, 20, 21}
    assert config.model.type == "lightgbm"
    assert config.threshold.rule == "max_recall_at_precision"
    assert config.threshold.precision == pytest.approx(0.30)


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "adherence.yaml"
    path.write_text(
        "label:\n  column: pdc\n  rule: lt\n  value: 0.8\n"
        "model:\n  type: logistic\n  logistic:\n    c: 0.5\n"
        "split:\n  seed: 7\n  test_fraction: 0.25\n"
        "threshold:\n  rule: recall_target\n  recall: 0.6\n"
    )
    config = AdherenceConfig.from_yaml(path)
    assert config.label.column == "pdc"
    assert config.label.value == pytest.approx(0.8)
    assert config.model.type == "logistic"
    assert config.model.logistic.c == pytest.approx(0.5)
    assert config.split.seed == 7
    assert AdherenceConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("model:\n  type: xgboost\n", "model.type"),
        ("labels:\n  column: x\n", "labels"),
        ("label:\n  rule: lt\n", "numeric"),
        ("split:\n  test_fraction: 1.5\n", "split.test_fraction"),
        ("- a\n- b\n", "mapping"),
        ("label: [unclosed\n", "YAML"),
    ],
)
def test_invalid_config_is_refused_with_a_hint(text: str, needle: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        AdherenceConfig.from_yaml(text)
    assert needle in str(info.value)
    assert info.value.hint


def test_unreadable_config_file() -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        AdherenceConfig.from_yaml(Path("/nonexistent/adherence.yaml"))


def test_label_column_absent_is_invalid_input(sample: pl.DataFrame) -> None:
    config = AdherenceConfig.from_dict({"label": {"column": "pdc", "rule": "lt", "value": 0.8}})
    with pytest.raises(InvalidInputError) as info:
        label_series(sample, config.label)
    assert "pdc" in str(info.value)
    assert "label.column" in info.value.hint
    with pytest.raises(InvalidInputError, match="pdc"):
        train(sample, config)


def test_default_label_is_readmission_within_30_days(sample: pl.DataFrame) -> None:
    y = label_series(sample, AdherenceConfig().label).to_numpy()
    expected = (sample.get_column("readmitted") == "<30").to_numpy()
    assert np.array_equal(y.astype(bool), expected)


def test_numeric_rule_needs_numbers(sample: pl.DataFrame) -> None:
    frame = sample.with_columns(pl.lit("high").alias("pdc"))
    config = AdherenceConfig.from_dict({"label": {"column": "pdc", "rule": "lt", "value": 0.8}})
    with pytest.raises(InvalidInputError, match="numeric"):
        label_series(frame, config.label)


def test_label_with_missing_values_is_refused(sample: pl.DataFrame) -> None:
    frame = sample.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("?"))
        .otherwise("readmitted")
        .alias("readmitted")
    )
    with pytest.raises(InvalidInputError, match="missing"):
        label_series(frame, AdherenceConfig().label)


def test_a_site_can_plug_in_a_pdc_label(sample: pl.DataFrame) -> None:
    rng = np.random.default_rng(0)
    pdc = rng.uniform(0.3, 1.0, sample.height)
    frame = sample.with_columns(pl.Series("pdc", pdc))
    config = AdherenceConfig.from_dict(
        {"label": {"column": "pdc", "rule": "lt", "value": 0.8, "description": "PDC < 0.8"}}
    )
    y = label_series(frame, config.label).to_numpy()
    assert np.array_equal(y.astype(bool), pdc < 0.8)
    model = train(frame, config)
    assert model.metrics["validation_n_encounters"] > 0
    assert "pdc" in model.input_schema["optional"]
