"""Local-folder BlobStore (``file:///abs/folder``).

A put writes to a temporary file in ``<root>/.incoming/``, fsyncs it, and renames it into place
(``os.replace`` is atomic on one filesystem), so a reader never sees a partial blob and a writer
killed mid-stream leaves only a temporary file, which nothing lists and the next put sweeps
when it is stale. Keys are validated before they become paths: no escape from the root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from modelyard.errors import BlobNotFoundError, ConfigError, InvalidInputError, StorageError
from modelyard.storage.keys import validate_blob_key, validate_blob_prefix

__all__ = ["LocalBlobStore"]

_INCOMING = ".incoming"
_STALE_S = 3600.0


class LocalBlobStore:
    """Blobs as files under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_uri(cls, uri: str) -> LocalBlobStore:
        """``file:///absolute/folder``."""
        parts = urlsplit(uri)
        path = unquote(parts.path)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise ConfigError(
                f"malformed file URI {uri!r}", hint="use file:///absolute/path/to/folder"
            )
        return cls(Path(path))

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_blob_key(key).split("/"))

    def _os_error(self, what: str, exc: OSError) -> StorageError:
        return StorageError(
            f"cannot {what} under {str(self.root)!r}: {exc.strerror or exc}",
            hint="check that the workspace folder exists and is writable (MODELYARD_HOME)",
        )

    def put(self, key: str, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(f"blob data must be bytes, got {type(data).__name__}")
        target = self._path(key)
        self._write(target, lambda fh: fh.write(data))

    def put_file(self, key: str, path: Path) -> None:
        source = Path(path)
        if not source.is_file():
            raise InvalidInputError(f"{str(source)!r} is not a readable file")
        target = self._path(key)

        def copy(fh: BinaryIO) -> None:
            with source.open("rb") as src:
                shutil.copyfileobj(src, fh, length=1 << 20)

        self._write(target, copy)

    def _write(self, target: Path, fill: Callable[[BinaryIO], object]) -> None:
        incoming = self.root / _INCOMING
        tmp = incoming / f"{uuid.uuid4().hex}.tmp"
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                fill(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise self._os_error("write a blob", exc) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        self._sweep(incoming)

    def _sweep(self, incoming: Path) -> None:
        """Remove temporary files that writers killed long ago left behind."""
        now = time.time()
        with contextlib.suppress(OSError):
            for entry in os.scandir(incoming):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > _STALE_S:
                        os.unlink(entry.path)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFoundError(f"no blob under key {key!r}") from None
        except OSError as exc:
            raise self._os_error("read a blob", exc) from exc

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise BlobNotFoundError(f"no blob under key {key!r}") from None
        except OSError as exc:
            raise self._os_error("read a blob", exc) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_blob_prefix(prefix)
        # Walk only below the deepest folder the prefix names.
        folder_part = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder_part.split("/")) if folder_part else self.root
        keys: list[str] = []
        if start.is_dir():
            for dirpath, dirnames, filenames in os.walk(start):
                rel = Path(dirpath).relative_to(self.root).as_posix()
                if rel == ".":
                    dirnames[:] = [d for d in dirnames if d != _INCOMING]
                    rel = ""
                for name in filenames:
                    key = f"{rel}/{name}" if rel else name
                    if key.startswith(prefix):
                        keys.append(key)
        yield from sorted(keys)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._os_error("delete a blob", exc) from exc
        # Remove folders the delete left empty, so the key space stays free for new keys.
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
