"""Property 39 (dataset side): every model version trained on a dataset version is listed by
``datasets used-by``, and only those."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    uses=st.lists(
        st.tuples(st.sampled_from(["risk", "churn"]), st.sets(st.integers(1, 3), min_size=1)),
        min_size=1,
        max_size=5,
    )
)
def test_p39_dataset_lineage_tracking(uses: list[tuple[str, set[int]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ws = open_workspace(
            Settings.load({}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"),
            env={},
            create=True,
        )
        for v in (1, 2, 3):
            (folder / f"d{v}.csv").write_text("a,b\n" + "".join(f"{i},{v}\n" for i in range(5)))
            ws.datasets.add(folder / f"d{v}.csv", name="train")
        artifact = folder / "model.txt"
        artifact.write_text("weights")
        expected: dict[int, set[tuple[str, int]]] = {1: set(), 2: set(), 3: set()}
        for model, versions in uses:
            mv = ws.registry.register(
                model, [artifact], datasets=[f"train@{v}" for v in sorted(versions)]
            )
            for v in versions:
                expected[v].add((model, mv.version))
        for v in (1, 2, 3):
            got = {(link.model, link.model_version) for link in ws.datasets.used_by("train", v)}
            assert got == expected[v]
