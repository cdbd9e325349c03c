"""The BlobStore contract (and ContentStore above it), run against every adapter."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from modelyard.errors import BlobNotFoundError, ChecksumMismatchError, InvalidInputError
from modelyard.storage.blobs import BlobStore, ContentStore
from tests.conftest import BLOB_BACKENDS, make_blob_store


def test_put_get_exists_delete(blobs: BlobStore) -> None:
    assert not blobs.exists("a/b.bin")
    blobs.put("a/b.bin", b"hello")
    assert blobs.exists("a/b.bin")
    assert blobs.get("a/b.bin") == b"hello"
    with blobs.open("a/b.bin") as fh:
        assert fh.read() == b"hello"
    blobs.put("a/b.bin", b"")
    assert blobs.get("a/b.bin") == b""
    blobs.delete("a/b.bin")
    assert not blobs.exists("a/b.bin")
    blobs.delete("a/b.bin")
    with pytest.raises(BlobNotFoundError):
        blobs.get("a/b.bin")
    with pytest.raises(BlobNotFoundError):
        blobs.open("a/b.bin")


def test_put_file_streams(blobs: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    payload = bytes(range(256)) * 10_000
    src.write_bytes(payload)
    blobs.put_file("f/src.bin", src)
    assert blobs.get("f/src.bin") == payload
    with pytest.raises(InvalidInputError):
        blobs.put_file("f/x", tmp_path / "missing")


def test_list_sorted_by_prefix(blobs: BlobStore) -> None:
    for key in ["b/2", "a/1", "a/10/x", "ab", "c"]:
        blobs.put(key, key.encode())
    assert list(blobs.list()) == ["a/1", "a/10/x", "ab", "b/2", "c"]
    assert list(blobs.list("a/")) == ["a/1", "a/10/x"]
    assert list(blobs.list("a")) == ["a/1", "a/10/x", "ab"]
    assert list(blobs.list("a/1")) == ["a/1", "a/10/x"]
    assert list(blobs.list("zz")) == []


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs",
        "../escape",
        "a/../../b",
        "a//b",
        "a/./b",
        ".hidden",
        "a\x00b",
        "a\nb",
        "a\\b",
        "C:/x",
        "sp ace",
    ],
)
def test_bad_keys_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(InvalidInputError):
        blobs.put(key, b"x")
    with pytest.raises(InvalidInputError):
        blobs.get(key)
    assert list(blobs.list()) == []


def test_content_store_dedupes_and_verifies(blobs: BlobStore, tmp_path: Path) -> None:
    cas = ContentStore(blobs)
    ref = cas.put(b"model bytes")
    again = cas.put(b"model bytes")
    assert ref == again
    assert cas.get(ref) == b"model bytes"
    f = tmp_path / "artifact.txt"
    f.write_bytes(b"model bytes")
    assert cas.put_file(f) == ref
    assert list(cas.iter_refs()) == [ref.sha256]
    blobs.put(ref.key, b"tampered!!!")
    with pytest.raises(ChecksumMismatchError, match="corrupt"):
        cas.get(ref)


def test_content_store_refuses_folder(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a regular file"):
        ContentStore(blobs).put_file(tmp_path)


_bkeys = st.sampled_from(["a", "a/b", "a/c", "b/a", "ab", "x/y/z"])


class BlobStoreMachine(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="bsm-"))
        self.store = make_blob_store(self.backend, self.folder)
        self.model: dict[str, bytes] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(key=_bkeys, data=st.binary(max_size=64))
    def put(self, key: str, data: bytes) -> None:
        # A key can't be both a blob and a "folder" of other blobs on a filesystem; the
        # machine keeps to the keys a real layout would use.
        if any(k.startswith(key + "/") or key.startswith(k + "/") for k in self.model):
            return
        self.store.put(key, data)
        self.model[key] = data

    @rule(key=_bkeys)
    def delete(self, key: str) -> None:
        self.store.delete(key)
        self.model.pop(key, None)

    @rule(prefix=st.sampled_from(["", "a", "a/", "b", "x/y/"]))
    def listing(self, prefix: str) -> None:
        assert list(self.store.list(prefix)) == sorted(
            k for k in self.model if k.startswith(prefix)
        )

    @invariant()
    def contents_agree(self) -> None:
        for key, data in self.model.items():
            assert self.store.get(key) == data


@pytest.mark.parametrize("backend", BLOB_BACKENDS)
def test_stateful_against_dict(backend: str) -> None:
    machine = type(f"BlobMachine_{backend}", (BlobStoreMachine,), {"backend": backend})
    state_test = machine.TestCase
    state_test.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
    state_test("runTest").runTest()
