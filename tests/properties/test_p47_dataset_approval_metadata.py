"""Property 47: approvals record approver, time, status and comment (history kept; the latest
decision counts)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelyard.settings import Settings
from modelyard.workspace import open_workspace

decisions = st.lists(
    st.tuples(
        st.sampled_from(["approve", "reject"]), st.sampled_from(["ana", "bo"]), st.text(max_size=30)
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=decisions)
def test_p47_dataset_approval_metadata(steps: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "d.csv").write_text("a\n1\n2\n")
        settings_ = Settings.load(
            {}, home=folder / "ws", records_uri="memory://", blobs_uri="memory://"
        )
        base = open_workspace(settings_, env={"MODELYARD_USER": "ana"}, create=True)
        base.datasets.add(folder / "d.csv", name="d")
        assert base.datasets.status("d", 1)["status"] == "pending"
        for verb, user, comment in steps:
            ws = open_workspace(settings_, env={"MODELYARD_USER": user})
            ws.records, ws.blobs = base.records, base.blobs  # same in-memory stores
            before = datetime.now().astimezone()
            decision = getattr(ws.datasets, verb)("d", 1, comment)
            assert decision.by == user
            assert decision.comment == comment
            assert decision.status == ("approved" if verb == "approve" else "rejected")
            assert decision.at >= before
            assert decision.at.tzinfo is not None
        status = base.datasets.status("d", 1)
        assert len(status["history"]) == len(steps)
        assert [h["by"] for h in status["history"]] == [s[1] for s in steps]
        assert [h["comment"] for h in status["history"]] == [s[2] for s in steps]
        last = steps[-1][0]
        assert status["status"] == ("approved" if last == "approve" else "rejected")
