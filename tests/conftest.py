"""Shared fixtures: backends for the contract suites, an isolated workspace, the CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from modelyard.adherence import AdherenceConfig, TrainedModel, train
from modelyard.storage.blobs import BlobStore
from modelyard.storage.localfs import LocalBlobStore
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.records import RecordStore
from modelyard.storage.sqlite import SqliteRecordStore
from modelyard.workspace import Workspace, open_workspace
from tests.uci import uci_sample

RECORD_BACKENDS = ["memory", "sqlite"]
BLOB_BACKENDS = ["memory", "localfs"]


def make_record_store(kind: str, folder: Path) -> RecordStore:
    if kind == "memory":
        return MemoryRecordStore()
    if kind == "sqlite":
        return SqliteRecordStore(folder / "records.db")
    raise ValueError(kind)


def make_blob_store(kind: str, folder: Path) -> BlobStore:
    if kind == "memory":
        return MemoryBlobStore()
    if kind == "localfs":
        return LocalBlobStore(folder / "blobs")
    raise ValueError(kind)


@pytest.fixture(params=RECORD_BACKENDS)
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordStore]:
    store = make_record_store(request.param, tmp_path)
    yield store
    store.close()


@pytest.fixture(params=BLOB_BACKENDS)
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return make_blob_store(request.param, tmp_path)


@pytest.fixture
def workspace_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose MODELYARD_HOME is a fresh folder (not yet created)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")}
    env["MODELYARD_HOME"] = str(tmp_path / "ws")
    env["MODELYARD_USER"] = "tester"
    return env


@pytest.fixture
def workspace(workspace_env: dict[str, str], tmp_path: Path) -> Iterator[Workspace]:
    ws = open_workspace(env=workspace_env, create=True)
    yield ws
    ws.close()


CliResult = subprocess.CompletedProcess[str]


@pytest.fixture
def cli(workspace_env: dict[str, str], tmp_path: Path) -> Callable[..., CliResult]:
    """Run ``modelyard ARGS`` as a user would, in its own process."""
    exe = Path(sys.executable).with_name("modelyard")

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> CliResult:
        return subprocess.run(
            [str(exe), *args],
            env=env or workspace_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )

    return run


# -- the adherence use case: a real UCI sample and models trained on it once per process --
@pytest.fixture(scope="session")
def sample() -> pl.DataFrame:
    """The first 3,000 UCI encounters, typed as the use case reads them."""
    return uci_sample(3000)


@pytest.fixture(scope="session")
def models(sample: pl.DataFrame) -> dict[str, TrainedModel]:
    """One LightGBM and one logistic model trained on ``sample``."""
    return {
        kind: train(sample, AdherenceConfig.from_dict({"model": {"type": kind}}))
        for kind in ("lightgbm", "logistic")
    }
