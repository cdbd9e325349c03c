"""Registry service contract, run on every RecordStore adapter (memory and sqlite)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal, RolePolicy
from modelyard.errors import (
    ArtifactNotFoundError,
    ChecksumMismatchError,
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    PermissionDeniedError,
    RunNotFoundError,
)
from modelyard.registry import LineageService, RegistryService, VersionRef, VersionStatus
from modelyard.registry.codeversion import detect_code_version
from modelyard.storage.blobs import BlobRef, ContentStore
from modelyard.storage.memory import MemoryBlobStore
from modelyard.storage.records import RecordStore
from modelyard.tracking import TrackingService


class Stack:
    def __init__(self, records: RecordStore, user: str = "alice", policy: object = None) -> None:
        self.records = records
        self.blobs = MemoryBlobStore()
        self.content = ContentStore(self.blobs)
        self.guard = AccessGuard(
            Authorizer(policy or AllowAll(), AuditLog(records)),  # type: ignore[arg-type]
            Principal(user, frozenset({"data_scientist"})),
        )
        self.tracking = TrackingService(records, self.content, self.guard)
        self.registry = RegistryService(
            records, self.content, self.guard, runs=self.tracking, code_version=lambda: "abc123"
        )
        self.lineage = LineageService(records, self.guard, runs=self.tracking)


@pytest.fixture
def stack(records: RecordStore) -> Stack:
    return Stack(records)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.txt"
    path.write_text("tree 0\n")
    return path


def test_register_stores_everything(stack: Stack, model_file: Path, tmp_path: Path) -> None:
    stack.tracking.create_experiment("exp")
    run = stack.tracking.record_run("exp", params={"lr": 0.1}, metrics={"auc": 0.7})
    extra = tmp_path / "schema.json"
    extra.write_text("{}")
    mv = stack.registry.register(
        "churn",
        [model_file, extra],
        framework="lightgbm",
        params={"num_leaves": 31},
        metrics={"auc": 0.71, "brier": 0.2},
        input_schema={"age": "int64", "gender": "str"},
        datasets=["diabetes@1", "holdout@2"],
        run_id=run.run_id,
        description="first",
        tags={"team": "risk"},
    )
    assert (mv.name, mv.version, mv.status) == ("churn", 1, VersionStatus.PENDING)
    assert mv.framework == "lightgbm"
    assert mv.params == {"num_leaves": "31"}
    assert mv.metrics == {"auc": 0.71, "brier": 0.2}
    assert mv.input_schema == (("age", "int64"), ("gender", "str"))
    assert [str(d) for d in mv.datasets] == ["diabetes@1", "holdout@2"]
    assert mv.run_id == run.run_id
    assert mv.code_version == "abc123"
    assert mv.created_by == "alice"
    assert [a.name for a in mv.artifacts] == ["model.txt", "schema.json"]
    assert mv.artifacts[0].size_bytes == len("tree 0\n")
    assert stack.registry.load_artifact("churn", 1, "model.txt") == b"tree 0\n"
    assert stack.registry.get("churn@1") == mv
    assert stack.registry.get("churn@latest") == mv
    assert mv.history[0].action == "register"


def test_params_and_metrics_default_to_the_run(stack: Stack, model_file: Path) -> None:
    stack.tracking.create_experiment("exp")
    run = stack.tracking.record_run("exp", params={"lr": 0.1}, metrics={"auc": 0.7})
    mv = stack.registry.register("m", [model_file], run_id=run.run_id)
    assert mv.params == {"lr": "0.1"}
    assert mv.metrics == {"auc": 0.7}


def test_versions_are_consecutive_and_listed(stack: Stack, model_file: Path) -> None:
    for i in range(1, 4):
        assert stack.registry.register("m", [model_file], metrics={"i": i}).version == i
    stack.registry.register("other", [model_file])
    assert [v.version for v in stack.registry.list_versions("m")] == [1, 2, 3]
    models = {m.name: m for m in stack.registry.list_models()}
    assert models["m"].latest_version == 3
    assert models["other"].latest_version == 1


def test_not_found_errors(stack: Stack, model_file: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="no model named 'ghost'"):
        stack.registry.get_version("ghost", 1)
    with pytest.raises(ModelNotFoundError):
        stack.registry.list_versions("ghost")
    stack.registry.register("m", [model_file])
    with pytest.raises(ModelVersionNotFoundError, match="no version 7; latest is 1"):
        stack.registry.get_version("m", 7)
    with pytest.raises(InvalidInputError, match="not a number"):
        stack.registry.get("m@seven")
    with pytest.raises(InvalidInputError, match="not a number"):
        stack.registry.get("m@0")
    with pytest.raises(InvalidInputError, match="names no version"):
        stack.registry.get("m")
    assert stack.registry.find_version("m", 9) is None


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "a/b"}, "not valid"),
        ({"name": "bad\x00name"}, "not valid"),
        ({"name": ".."}, "not valid"),
        ({"artifacts": ["/no/such/file"]}, "does not exist"),
        ({"artifacts": "FOLDER"}, "is a folder"),
        ({"artifacts": []}, "at least one artifact"),
        ({"metrics": {"auc": "high"}}, "must be a number"),
        ({"params": {"bad key": 1}}, "param key"),
        ({"datasets": ["diabetes"]}, "names no version"),
        ({"datasets": ["diabetes@one"]}, "not a number"),
        ({"datasets": ["diabetes@1", "diabetes@1"]}, "listed twice"),
        ({"input_schema": [("a", "int"), ("a", "str")]}, "appears twice"),
        ({"framework": ""}, "must not be empty"),
        ({"framework": "x\x1b[31m"}, "control character"),
    ],
)
def test_bad_input_registers_nothing(
    stack: Stack, model_file: Path, tmp_path: Path, kwargs: dict[str, object], fragment: str
) -> None:
    args: dict[str, object] = {"name": "m", "artifacts": [model_file]}
    args.update(kwargs)
    if args["artifacts"] == "FOLDER":
        args["artifacts"] = [tmp_path]
    with pytest.raises(InvalidInputError, match=fragment):
        stack.registry.register(**args)  # type: ignore[arg-type]
    assert stack.registry.list_models() == []
    assert list(stack.records.query("model#m")) == []


def test_duplicate_artifact_names_and_unknown_run(stack: Stack, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for sub in ("a", "b"):
        (tmp_path / sub / "model.txt").write_text(sub)
    with pytest.raises(InvalidInputError, match="two artifacts"):
        stack.registry.register("m", [tmp_path / "a/model.txt", tmp_path / "b/model.txt"])
    with pytest.raises(RunNotFoundError):
        stack.registry.register("m", [tmp_path / "a/model.txt"], run_id="f" * 32)
    assert stack.registry.list_models() == []


def test_bytes_artifacts(stack: Stack) -> None:
    mv = stack.registry.register("m", {"model.json": b'{"w": 1}', "notes.txt": b"hi"})
    assert stack.registry.load_artifacts("m", mv.version) == {
        "model.json": b'{"w": 1}',
        "notes.txt": b"hi",
    }
    with pytest.raises(InvalidInputError, match="has 2 artifacts"):
        stack.registry.load_artifact("m", 1)
    with pytest.raises(ArtifactNotFoundError, match=r"it has: model\.json, notes\.txt"):
        stack.registry.load_artifact("m", 1, "weights.bin")


def test_tampered_artifact_is_refused(stack: Stack, model_file: Path, tmp_path: Path) -> None:
    mv = stack.registry.register("m", [model_file])
    art = mv.artifacts[0]
    stack.blobs.put(BlobRef(art.sha256, art.size_bytes).key, b"tree 1\n")
    with pytest.raises(ChecksumMismatchError):
        stack.registry.load_artifact("m", 1)
    with pytest.raises(ChecksumMismatchError):
        stack.registry.download("m", 1, tmp_path / "out")
    assert not (tmp_path / "out" / "model.txt").exists()


def test_tampered_metadata_is_detected(stack: Stack, model_file: Path) -> None:
    stack.registry.register("m", [model_file], metrics={"auc": 0.6})
    rec = stack.records.get("model#m", "v#0000000001")
    rec["metrics"] = {"auc": 0.99}
    stack.records.put(rec)
    with pytest.raises(ChecksumMismatchError, match="altered"):
        stack.registry.get_version("m", 1)


def test_approval_workflow(stack: Stack, model_file: Path) -> None:
    for _ in range(3):
        stack.registry.register("m", [model_file])
    approved = stack.registry.approve("m", 1, comment="beats baseline")
    assert approved.status is VersionStatus.APPROVED
    assert approved.approval is not None
    assert (approved.approval.by, approved.approval.comment) == ("alice", "beats baseline")
    assert [h.action for h in approved.history] == ["register", "approve"]
    rejected = stack.registry.reject("m", 2, comment="leaks the label")
    assert rejected.status is VersionStatus.REJECTED
    archived = stack.registry.archive("m", 1, comment="superseded")
    assert archived.status is VersionStatus.ARCHIVED
    assert archived.approval is not None
    assert archived.approval.comment == "beats baseline"
    assert archived.history[-1].detail == {"from": "approved", "to": "archived"}
    with pytest.raises(ConflictError, match="it is rejected"):
        stack.registry.approve("m", 2, comment="again")
    with pytest.raises(ConflictError, match="it is pending"):
        stack.registry.archive("m", 3, comment="x")
    with pytest.raises(ConflictError):
        stack.registry.approve("m", 1, comment="x")
    with pytest.raises(InvalidInputError, match="must not be empty"):
        stack.registry.approve("m", 3, comment="  ")
    with pytest.raises(ModelVersionNotFoundError):
        stack.registry.approve("m", 9, comment="x")
    # status changes leave the immutable part untouched
    assert stack.registry.get_version("m", 1).metadata_sha256 == approved.metadata_sha256


def test_tags_are_recorded_in_history(stack: Stack, model_file: Path) -> None:
    stack.registry.register("m", [model_file])
    mv = stack.registry.set_tag("m", 1, "stage", "shadow", comment="try it")
    mv = stack.registry.set_tag("m", 1, "stage", "live")
    assert mv.tags == {"stage": "live"}
    assert [h.detail.get("to") for h in mv.history[1:]] == ["shadow", "live"]


def test_compare_versions(stack: Stack, model_file: Path) -> None:
    stack.registry.register("a", [model_file], metrics={"auc": 0.5, "f1": 0.0}, params={"x": 1})
    stack.registry.register(
        "b", [model_file], metrics={"auc": 0.6, "f1": 0.2, "nan": math.nan}, params={"x": 2}
    )
    cmp = stack.registry.compare("a@1", VersionRef("b", 1))
    by_key = {m.key: m for m in cmp.metrics}
    assert set(by_key) == {"auc", "f1", "nan"}
    assert by_key["auc"].abs_diff == pytest.approx(0.1)
    assert by_key["auc"].rel_diff == pytest.approx(0.2)
    assert by_key["f1"].rel_diff is None  # a == 0
    assert by_key["nan"].a is None
    assert by_key["nan"].abs_diff is None
    assert [p.key for p in cmp.changed_params] == ["x"]
    assert cmp.to_dict()["a"] == "a@1"


def test_lineage_both_ways(stack: Stack, model_file: Path) -> None:
    stack.tracking.create_experiment("exp")
    run = stack.tracking.record_run("exp", metrics={"auc": 0.7})
    stack.registry.register("m", [model_file], datasets=["d@1"], run_id=run.run_id)
    stack.registry.register("m", [model_file], datasets=["d@1", "e@3"])
    stack.registry.register("n", [model_file], datasets=["d@2"])
    fwd = stack.lineage.of_version("m", 2)
    assert [str(d) for d in fwd.datasets] == ["d@1", "e@3"]
    assert fwd.run is None
    first = stack.lineage.of_version("m", 1)
    assert first.run is not None
    assert first.run.run_id == run.run_id
    assert first.code_version == "abc123"
    users = stack.lineage.versions_using_dataset("d", 1)
    assert [(u.model, u.model_version) for u in users] == [("m", 1), ("m", 2)]
    every = stack.lineage.versions_using_dataset("d")
    assert [(u.model, u.model_version, u.dataset_version) for u in every] == [
        ("m", 1, 1),
        ("m", 2, 1),
        ("n", 1, 2),
    ]
    assert stack.lineage.versions_from_run(run.run_id) == [VersionRef("m", 1)]
    links = stack.lineage.models_trained_on("e", 3)
    assert [(link.model, link.model_version) for link in links] == [("m", 2)]
    with pytest.raises(ModelVersionNotFoundError):
        stack.lineage.of_version("m", 5)
    with pytest.raises(ModelNotFoundError):
        stack.lineage.of_version("zzz", 1)


def test_permission_denied_writes_nothing(records: RecordStore, model_file: Path) -> None:
    viewer = Stack(records, policy=RolePolicy({"data_scientist": {"models.read"}}))
    with pytest.raises(PermissionDeniedError):
        viewer.registry.register("m", [model_file])
    assert list(records.query("model#m")) == []
    audit = [e for e in AuditLog(records).entries() if e.action == "models.register"]
    assert [e.outcome for e in audit] == ["denied"]


def test_code_version_detection(tmp_path: Path) -> None:
    assert detect_code_version(tmp_path) is None
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    assert detect_code_version(repo) is None  # no commits yet
    (repo / "f").write_text("x")
    git("add", "f")
    git("commit", "-q", "-m", "one")
    head = git("rev-parse", "HEAD")
    sub = repo / "sub"
    sub.mkdir()
    assert detect_code_version(sub) == head
    git("pack-refs", "--all")  # the ref now lives in packed-refs only
    assert detect_code_version(repo) == head
