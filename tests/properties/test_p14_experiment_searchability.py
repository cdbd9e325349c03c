"""Property 14: search returns exactly what a brute-force filter over all runs returns."""

from __future__ import annotations

import math
import operator
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore
from modelyard.tracking import Run, RunStatus, TrackingService

METRICS = ["auc", "loss", "f1"]
PARAMS = ["model", "depth"]
MODELS = ["lr", "lgbm", "rf", "LGBM_2"]
metric_values = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -1.0, math.nan, math.inf])

run_spec = st.fixed_dictionaries(
    {
        "metrics": st.dictionaries(st.sampled_from(METRICS), metric_values),
        "params": st.fixed_dictionaries(
            {},
            optional={
                "model": st.sampled_from(MODELS),
                "depth": st.sampled_from(["3", "10", "x"]),
            },
        ),
        "tags": st.dictionaries(st.sampled_from(["team"]), st.sampled_from(["a", "b"])),
        "fail": st.booleans(),
    }
)

# A filter is generated as (text, oracle) pairs; the oracle is an independent evaluator.
Oracle = Callable[[Run], bool]
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, Oracle]:
    kind = draw(st.sampled_from(["metric", "param_str", "param_num", "like", "status", "tag"]))
    op = draw(st.sampled_from(list(OPS)))
    if kind == "metric":
        key = draw(st.sampled_from(METRICS))
        number = draw(st.sampled_from([0.0, 0.5, 0.75, -1.0, 2.0]))

        def metric(r: Run) -> bool:
            return key in r.metrics and OPS[op](r.metrics[key], number)

        return f"metrics.{key} {op} {number}", metric
    if kind == "param_str":
        value = draw(st.sampled_from(MODELS))

        def param_str(r: Run) -> bool:
            return "model" in r.params and OPS[op](r.params["model"], value)

        return f"params.model {op} '{value}'", param_str
    if kind == "param_num":
        number = draw(st.sampled_from([3, 5, 10]))

        def param_num(r: Run) -> bool:
            raw = r.params.get("depth")
            if raw is None:
                return False
            try:
                return OPS[op](float(raw), number)
            except ValueError:
                return False

        return f"params.depth {op} {number}", param_num
    if kind == "like":
        pattern = draw(st.sampled_from(["l%", "%g%", "LGBM__", "r_", "%"]))
        return f"params.model LIKE '{pattern}'", (
            lambda r: "model" in r.params and like(pattern, r.params["model"])
        )
    if kind == "status":
        status = draw(st.sampled_from(["finished", "failed"]))
        sop = draw(st.sampled_from(["=", "!="]))
        return f"status {sop} '{status}'", lambda r: OPS[sop](r.status.value, status)
    tag = draw(st.sampled_from(["a", "b"]))
    return f"tags.team = '{tag}'", lambda r: r.tags.get("team") == tag


def filters(depth: int = 2) -> st.SearchStrategy[tuple[str, Oracle]]:
    def extend(inner: st.SearchStrategy[tuple[str, Oracle]]) -> st.SearchStrategy[Any]:
        @st.composite
        def combine(draw: st.DrawFn) -> tuple[str, Oracle]:
            (ta, fa), (tb, fb) = draw(inner), draw(inner)
            if draw(st.booleans()):
                return f"({ta}) and ({tb})", lambda r: fa(r) and fb(r)
            return f"({ta}) or ({tb})", lambda r: fa(r) or fb(r)

        return combine()

    return st.recursive(comparisons(), extend, max_leaves=4)


def service(kind: str, folder: Path) -> TrackingService:
    records: RecordStore = (
        MemoryRecordStore() if kind == "memory" else SqliteRecordStore(folder / "r.db")
    )
    guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("p"))
    return TrackingService(records, ContentStore(MemoryBlobStore()), guard)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@given(
    runs=st.lists(run_spec, max_size=15),
    flts=st.lists(filters(), min_size=1, max_size=5),
    order_desc=st.booleans(),
)
@settings(max_examples=30, deadline=None)
def test_p14_experiment_searchability(
    kind: str, runs: list[dict[str, Any]], flts: list[tuple[str, Oracle]], order_desc: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tracking = service(kind, Path(tmp))
        tracking.create_experiment("e")
        for spec in runs:
            with tracking.start_run("e", params=spec["params"], tags=spec["tags"]) as run:
                run.log_metrics(spec["metrics"])
                if spec["fail"]:
                    run.end("failed")
        everything = tracking.list_runs()
        assert len(everything) == len(runs)
        for text, oracle in flts:
            found = tracking.search_runs(text)
            assert {r.run_id for r in found} == {r.run_id for r in everything if oracle(r)}, text
            # ordering and limit: the first k of the brute-force order
            direction = "desc" if order_desc else "asc"
            ordered = tracking.search_runs(f"{text} order by metrics.auc {direction} limit 3")
            expected = sorted(
                (r for r in everything if oracle(r)),
                key=lambda r: (
                    math.isnan(r.metrics.get("auc", math.nan)),
                    (-1 if order_desc else 1) * r.metrics.get("auc", 0.0),
                ),
            )
            got = [r.metrics.get("auc", math.nan) for r in ordered]
            want = [r.metrics.get("auc", math.nan) for r in expected[:3]]
            assert len(got) == len(want)
            assert all(
                (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(got, want, strict=True)
            ), (text, got, want)


def test_p14_status_of_failed_runs_is_searchable() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tracking = service("sqlite", Path(tmp))
        tracking.create_experiment("e")
        with pytest.raises(ValueError, match="x"), tracking.start_run("e"):
            raise ValueError("x")
        assert [r.status for r in tracking.search_runs("status = 'failed'")] == [RunStatus.FAILED]
