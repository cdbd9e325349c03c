"""The BlobStore port (bytes by key) and content addressing above it.

Adapters write atomically: a reader sees either the whole old value, the whole new value, or
nothing; never a partial blob (local folder: write to a temporary name, fsync, rename; S3: a
single PUT). ``ContentStore`` keeps artifacts under their sha256 and verifies on every read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from modelyard.errors import ChecksumMismatchError, InvalidInputError

__all__ = ["BlobRef", "BlobStore", "ContentStore", "sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size of a local file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@runtime_checkable
class BlobStore(Protocol):
    """Bytes by key. Every adapter passes ``tests/contract/test_blobs.py``.

    Keys are relative '/'-paths (see ``validate_blob_key``). Do not store a blob at a key that is
    also the folder of other keys (``a`` and ``a/b``): a filesystem cannot hold both.
    """

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically (replacing any old value).

        Raises:
            InvalidInputError: the key is not valid (see ``validate_blob_key``).
            StorageError: the backend failed; the old value, if any, is intact.
        """
        ...

    def put_file(self, key: str, path: Path) -> None:
        """Store the contents of a local file under ``key``, streaming, atomically."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``.

        Raises:
            BlobNotFoundError: nothing stored under the key.
            StorageError: the backend failed.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the blob (caller closes it).

        Raises:
            BlobNotFoundError: nothing stored under the key.
        """
        ...

    def exists(self, key: str) -> bool:
        """True if something is stored under ``key``."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, in sorted order."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A local file holding the blob, if the backend has one (for zero-copy reads)."""
        ...


@dataclass(frozen=True)
class BlobRef:
    """Where a content-addressed blob lives and what it must hash to."""

    sha256: str
    size_bytes: int

    @property
    def key(self) -> str:
        return f"cas/sha256/{self.sha256[:2]}/{self.sha256}"

    def to_dict(self) -> dict[str, object]:
        return {"sha256": self.sha256, "size_bytes": self.size_bytes}


class ContentStore:
    """Content-addressed artifacts over a BlobStore, verified on every read.

    Identical content is stored once. ``get`` re-hashes what it read and raises
    ChecksumMismatchError if the bytes were altered since they were written.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    def put(self, data: bytes) -> BlobRef:
        ref = BlobRef(hashlib.sha256(data).hexdigest(), len(data))
        if not self._blobs.exists(ref.key):
            self._blobs.put(ref.key, data)
        return ref

    def put_file(self, path: Path) -> BlobRef:
        """Hash a local file while streaming it, then store it under its hash."""
        if not path.exists():
            raise InvalidInputError(f"file {str(path)!r} does not exist")
        if not path.is_file():
            raise InvalidInputError(f"{str(path)!r} is not a regular file (a folder?)")
        ref = BlobRef(*sha256_file(path))
        if not self._blobs.exists(ref.key):
            self._blobs.put_file(ref.key, path)
        return ref

    def get(self, ref: BlobRef) -> bytes:
        """Return the verified bytes.

        Raises:
            BlobNotFoundError: the artifact is gone.
            ChecksumMismatchError: the stored bytes no longer hash to ``ref.sha256``.
        """
        data = self._blobs.get(ref.key)
        actual = hashlib.sha256(data).hexdigest()
        if actual != ref.sha256 or len(data) != ref.size_bytes:
            raise ChecksumMismatchError(
                f"artifact {ref.sha256[:12]}… is corrupt: expected sha256 {ref.sha256} "
                f"({ref.size_bytes} bytes), found {actual} ({len(data)} bytes)"
            )
        return data

    def exists(self, ref: BlobRef) -> bool:
        return self._blobs.exists(ref.key)

    def iter_refs(self) -> Iterator[str]:
        """Every stored sha256 (for garbage collection and audits)."""
        for key in self._blobs.list("cas/sha256/"):
            yield key.rsplit("/", 1)[-1]
