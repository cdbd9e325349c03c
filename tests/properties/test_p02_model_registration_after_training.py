"""Property 2: each successful training run registers exactly one version linked to run, data
and metrics."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.properties.pipeline_support import new_workspace, training_config, write_sample


@given(seeds=st.lists(st.integers(0, 99), min_size=1, max_size=3))
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_p02_model_registration_after_training(seeds: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = write_sample(folder, 2000)
        ws = new_workspace(folder)
        results = [
            ws.pipelines.run_training(training_config(csv, split={"seed": s})) for s in seeds
        ]
        versions = ws.registry.list_versions("adherence")
        assert [v.version for v in versions] == list(range(1, len(seeds) + 1))
        for result, mv in zip(results, sorted(versions, key=lambda v: v.version), strict=True):
            assert mv.version == result.version
            assert mv.run_id == result.run_id
            assert [d.ref if hasattr(d, "ref") else str(d) for d in mv.datasets] == [
                result.dataset
            ] or [f"{d.name}@{d.version}" for d in mv.datasets] == [result.dataset]
            run = ws.tracking.get_run(result.run_id)
            assert run.metrics["test_auc_roc"] == mv.metrics["test_auc_roc"]
            assert mv.metrics["test_auc_roc"] == result.metrics["test"]["auc_roc"]
        # the data side of the lineage: the dataset version lists every model trained on it
        name, _, ver = results[0].dataset.partition("@")
        used = ws.datasets.used_by(name, int(ver))
        assert sorted(link.model_version for link in used) == [r.version for r in results]
        ws.close()
