"""Property 31: quality metrics equal an independent computation."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings

from modelyard.quality.monitoring import build_baseline, run_check
from tests.properties.quality_support import frames


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


@settings(max_examples=60, deadline=None)
@given(frames(min_rows=1), frames(min_rows=1))
def test_p31_data_quality_metrics_computation(ref: pl.DataFrame, cur: pl.DataFrame) -> None:
    report = run_check(build_baseline(ref), cur)
    q = report.quality
    cells = missing_cells = 0
    violations = numeric_cells = unseen = cat_cells = 0
    for name in ref.columns:
        r = [v for v in ref[name].to_list() if not _missing(v)]
        c = cur[name].to_list()
        col = next(x for x in q.columns if x.column == name)
        n_missing = sum(1 for v in c if _missing(v))
        assert col.missing == n_missing
        assert col.completeness == pytest.approx(1 - n_missing / len(c))
        cells += len(c)
        missing_cells += n_missing
        present = [v for v in c if not _missing(v)]
        if name in ("i", "x"):
            lo = min(r) if r else None
            hi = max(r) if r else None
            below = sum(1 for v in present if lo is not None and v < lo)
            above = sum(1 for v in present if hi is not None and v > hi)
            assert (col.below_min, col.above_max) == (below, above)
            numeric_cells += len(present)
            violations += below + above
        else:
            seen = {str(v).lower() if isinstance(v, bool) else v for v in r}
            new = sum(
                1 for v in present if (str(v).lower() if isinstance(v, bool) else v) not in seen
            )
            assert col.unseen_categories == new
            unseen += new
            cat_cells += len(present)
        assert col.type_validity == (1.0 if present else None)
    assert q.completeness == pytest.approx(1 - missing_cells / cells)
    assert q.range_violation_rate == pytest.approx(
        violations / numeric_cells if numeric_cells else 0.0
    )
    assert q.unseen_share == pytest.approx(unseen / cat_cells if cat_cells else 0.0)
    assert q.rows_cur == cur.height
    assert q.rows_ref == ref.height
    assert q.row_count_ratio == pytest.approx(cur.height / ref.height)


@settings(max_examples=40, deadline=None)
@given(frames(min_rows=1), frames(min_rows=1))
def test_p31_type_validity_of_a_column_that_arrives_as_text(
    ref: pl.DataFrame, cur: pl.DataFrame
) -> None:
    as_text = cur.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.lit("oops"))
        .otherwise(pl.col("i").cast(pl.String))
        .alias("i")
    )
    report = run_check(build_baseline(ref), as_text)
    col = next(x for x in report.quality.columns if x.column == "i")
    values = as_text["i"].to_list()
    present = [v for v in values if v is not None]
    valid = sum(1 for v in present if v != "oops")
    assert col.invalid_type == len(present) - valid
    assert col.type_validity == (valid / len(present) if present else None)
    feature = next(f for f in report.features if f.column == "i")
    assert not feature.tested
    assert "type_changed" in feature.reasons
