"""The search language parser and evaluator (pure)."""

from __future__ import annotations

import math

import pytest

from modelyard.errors import FilterSyntaxError, InvalidInputError
from modelyard.tracking.search import (
    And,
    Comparison,
    Field,
    Or,
    OrderKey,
    apply_order,
    compile_filter,
    parse_query,
)


def row(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "run_id": "r",
        "experiment": "e",
        "status": "finished",
        "start_ms": 0,
        "end_ms": None,
        "metrics": {},
        "params": {},
        "tags": {},
    }
    base.update(kw)
    return base


def matches(text: str, r: dict[str, object]) -> bool:
    return compile_filter(parse_query(text))(r)


def test_parses_and_or_precedence_and_parentheses() -> None:
    q = parse_query("metrics.a > 1 or metrics.b < 2 and params.m = 'x'")
    assert isinstance(q.where, Or)
    assert isinstance(q.where.parts[1], And)
    q2 = parse_query("(metrics.a > 1 or metrics.b < 2) and params.m = 'x'")
    assert isinstance(q2.where, And)
    assert isinstance(q2.where.parts[0], Or)


def test_keywords_are_case_insensitive_and_aliases_work() -> None:
    q = parse_query(
        "METRIC.auc >= 0.5 AND Param.model LIKE 'lg%' ORDER BY metrics.auc DESC LIMIT 3"
    )
    assert q.where == And(
        (
            Comparison(Field("metrics", "auc"), ">=", 0.5),
            Comparison(Field("params", "model"), "like", "lg%"),
        )
    )
    assert q.order == (OrderKey(Field("metrics", "auc"), True),)
    assert q.limit == 3


def test_empty_filter_matches_everything() -> None:
    q = parse_query("   ")
    assert q.where is None
    assert compile_filter(q)(row())


def test_keys_with_dots_slashes_and_backquotes() -> None:
    r = row(metrics={"fold_1.auc": 0.9, "val/loss": 0.1, "and": 1.0})
    assert matches("metrics.fold_1.auc > 0.5", r)
    assert matches("metrics.val/loss < 0.2", r)
    assert matches("metrics.`and` = 1", r)


def test_string_escapes_and_double_quotes() -> None:
    r = row(tags={"note": "it's", "q": 'say "hi"'})
    assert matches("tags.note = 'it''s'", r)
    assert matches("tags.q = 'say \"hi\"'", r)
    assert matches('tags.q LIKE "%hi%"', r)


def test_missing_fields_never_match() -> None:
    r = row()
    for text in ("metrics.x > 0", "metrics.x != 1", "params.p = 'a'", "params.p != 'a'"):
        assert not matches(text, r)


def test_nan_follows_ieee_rules() -> None:
    r = row(metrics={"loss": "NaN", "big": "Infinity"})
    assert not matches("metrics.loss > 0", r)
    assert not matches("metrics.loss = 0", r)
    assert matches("metrics.loss != 0", r)
    assert matches("metrics.big > 1e308", r)


def test_params_compare_numerically_against_numbers() -> None:
    r = row(params={"lr": "0.01", "name": "abc"})
    assert matches("params.lr < 0.1", r)
    assert not matches("params.lr < '0.001'", r)  # string comparison: '0.01' > '0.001'
    assert not matches("params.name > 0", r)


def test_like_and_ilike() -> None:
    r = row(params={"model": "LightGBM_v2"})
    assert matches("params.model LIKE 'Light%'", r)
    assert not matches("params.model LIKE 'light%'", r)
    assert matches("params.model ILIKE 'light%'", r)
    assert matches("params.model LIKE '%GBM_v_'", r)
    assert matches("params.model NOT LIKE 'xgb%'", r)
    assert not matches("params.model LIKE 'Light'", r)  # anchored
    assert matches("params.model LIKE 'LightGBM.v2'", row(params={"model": "LightGBM.v2"}))
    assert not matches("params.model LIKE 'LightGBM.v2'", r)  # '.' is literal


def test_status_and_times() -> None:
    r = row(status="failed", start_ms=1_700_000_000_000)
    assert matches("status = 'FAILED'", r)
    assert matches("status != 'finished'", r)
    assert matches("start_time >= 1700000000000", r)
    assert matches("start_time < '2030-01-01T00:00:00+00:00'", r)
    assert matches("start_time > '2023-01-01'", r)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("metrics.auc >", 14, "expected a number or a quoted string"),
        ("metrics.auc > 'x'", 15, "is a number"),
        ("metrics.auc LIKE '%'", 13, "LIKE works on strings only"),
        ("params.m = 'abc", 12, "no closing"),
        ("metrics.auc > 1 and", 20, "expected a field"),
        ("foo = 1", 1, "unknown field"),
        ("bar.x = 1", 1, "unknown field prefix"),
        ("metrics = 1", 1, "needs a key"),
        ("(metrics.a > 1", 15, "expected ')'"),
        ("metrics.a > 1)", 14, "closes nothing"),
        ("metrics.a > 1 params.b = 'x'", 15, "expected AND, OR"),
        ("metrics.a ~ 1", 11, "unexpected character"),
        ("metrics.a ! 1", 11, "not an operator"),
        ("status = 'done'", 10, "unknown status"),
        ("status > 'failed'", 8, "status supports"),
        ("start_time > 'yesterday'", 14, "ISO-8601"),
        ("metrics.a > 1 limit -1", 21, "whole number"),
        ("metrics.a > 1 limit 2.5", 21, "whole number"),
        ("metrics.a > 1 order metrics.a", 21, "expected BY"),
        ("params.p = 12abc", 12, "is not a number"),
        ("params.m LIKE 5", 15, "quoted pattern"),
        ("status = finished", 10, "expected a number or a quoted string"),
        ("run_id = 5", 10, "quote the value"),
    ],
)
def test_errors_point_at_the_offending_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_query(text)
    err = info.value
    assert err.column == column, err.message
    assert fragment in err.message
    assert isinstance(err, InvalidInputError)
    caret_line = err.message.splitlines()[-1]
    assert caret_line.index("^") - 2 == column - 1  # two spaces of indent
    assert err.to_dict()["column"] == column


def test_order_missing_and_nan_last_in_both_directions() -> None:
    rows = [
        row(run_id="a", metrics={"m": 1.0}, start_ms=1),
        row(run_id="b", metrics={}, start_ms=2),
        row(run_id="c", metrics={"m": "NaN"}, start_ms=3),
        row(run_id="d", metrics={"m": 3.0}, start_ms=4),
    ]
    up = apply_order(rows, parse_query("order by metrics.m asc").order)
    down = apply_order(rows, parse_query("order by metrics.m desc").order)
    assert [r["run_id"] for r in up][:2] == ["a", "d"]
    assert [r["run_id"] for r in down][:2] == ["d", "a"]
    assert {r["run_id"] for r in up[2:]} == {"b", "c"}
    # default order: newest start first
    assert [r["run_id"] for r in apply_order(rows, ())] == ["d", "c", "b", "a"]


def test_multi_key_order() -> None:
    rows = [
        row(run_id="a", params={"g": "x"}, metrics={"m": 1.0}),
        row(run_id="b", params={"g": "y"}, metrics={"m": 2.0}),
        row(run_id="c", params={"g": "x"}, metrics={"m": 3.0}),
    ]
    ordered = apply_order(rows, parse_query("order by params.g, metrics.m desc").order)
    assert [r["run_id"] for r in ordered] == ["c", "a", "b"]


def test_number_literals() -> None:
    r = row(metrics={"m": -1.5e-3})
    assert matches("metrics.m = -1.5e-3", r)
    assert matches("metrics.m < .5", r)
    assert matches("metrics.m>-1", r)
    assert not math.isnan(parse_query("metrics.m = +2").where.value)  # type: ignore[union-attr]
