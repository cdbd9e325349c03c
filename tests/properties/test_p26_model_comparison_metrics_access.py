"""Property 26: comparing two versions returns all metrics of both and their differences."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal
from modelyard.registry import RegistryService
from modelyard.storage.blobs import ContentStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore

keys = st.sampled_from(["auc", "brier", "f1", "recall", "pr_auc", "loss"])
finite = st.floats(-1e6, 1e6, allow_nan=False)
values = st.one_of(finite, st.sampled_from([0.0, math.nan, math.inf, -math.inf]))
params = st.dictionaries(st.sampled_from(["lr", "depth", "model"]), st.sampled_from(["1", "2"]))


@given(
    ma=st.dictionaries(keys, values),
    mb=st.dictionaries(keys, values),
    pa=params,
    pb=params,
    same_model=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_p26_model_comparison_metrics_access(
    ma: dict[str, float],
    mb: dict[str, float],
    pa: dict[str, str],
    pb: dict[str, str],
    same_model: bool,
) -> None:
    records = MemoryRecordStore()
    guard = AccessGuard(Authorizer(AllowAll(), AuditLog(records)), Principal("p"))
    reg = RegistryService(
        records, ContentStore(MemoryBlobStore()), guard, code_version=lambda: None
    )
    a = reg.register("m", {"x": b"a"}, metrics=ma, params=pa)
    b = reg.register("m" if same_model else "n", {"x": b"b"}, metrics=mb, params=pb)
    cmp = reg.compare(str(a.ref), str(b.ref))
    assert [d.key for d in cmp.metrics] == sorted(set(ma) | set(mb))
    for d in cmp.metrics:
        va, vb = ma.get(d.key), mb.get(d.key)
        assert (d.a is None and va is None) or (
            d.a is not None
            and va is not None
            and (d.a == va or (math.isnan(d.a) and math.isnan(va)))
        )
        assert (d.b is None and vb is None) or (
            d.b is not None
            and vb is not None
            and (d.b == vb or (math.isnan(d.b) and math.isnan(vb)))
        )
        if va is None or vb is None:
            assert d.abs_diff is None
            assert d.rel_diff is None
            continue
        assert d.abs_diff is not None
        if math.isfinite(va) and math.isfinite(vb):
            assert d.abs_diff == vb - va
            if va == 0:
                assert d.rel_diff is None
            else:
                assert d.rel_diff == (vb - va) / abs(va)
        elif math.isnan(va) or math.isnan(vb):
            assert math.isnan(d.abs_diff)
    assert {p.key for p in cmp.params} == set(pa) | set(pb)
    assert {p.key for p in cmp.changed_params} == {
        k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k)
    }
