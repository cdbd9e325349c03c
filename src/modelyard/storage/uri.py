"""The URI registry: a backend URI picks its adapter, imported lazily.

``sqlite:///abs/path.db``, ``memory://`` for records; ``file:///abs/folder``, ``memory://``
for blobs. An adapter's module is imported only when its scheme is used, so a missing
optional extra surfaces as BackendUnavailableError naming the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from modelyard.errors import BackendUnavailableError, ConfigError
from modelyard.storage.blobs import BlobStore
from modelyard.storage.records import RecordStore

__all__ = ["open_blob_store", "open_record_store", "register_blob_scheme", "register_record_scheme"]


@dataclass(frozen=True)
class _Entry:
    target: str  # "module:factory"; factory(uri) -> adapter
    extra: str | None  # the pip extra that provides its driver


_RECORD_SCHEMES: dict[str, _Entry] = {
    "memory": _Entry("modelyard.storage.memory:MemoryRecordStore.from_uri", None),
    "sqlite": _Entry("modelyard.storage.sqlite:SqliteRecordStore.from_uri", None),
}
_BLOB_SCHEMES: dict[str, _Entry] = {
    "memory": _Entry("modelyard.storage.memory:MemoryBlobStore.from_uri", None),
    "file": _Entry("modelyard.storage.localfs:LocalBlobStore.from_uri", None),
}


def register_record_scheme(scheme: str, target: str, extra: str | None = None) -> None:
    """Add a RecordStore adapter for ``scheme`` (``target`` is ``module:Class.from_uri``)."""
    _RECORD_SCHEMES[scheme] = _Entry(target, extra)


def register_blob_scheme(scheme: str, target: str, extra: str | None = None) -> None:
    """Add a BlobStore adapter for ``scheme``."""
    _BLOB_SCHEMES[scheme] = _Entry(target, extra)


def _resolve(kind: str, uri: str, table: dict[str, _Entry]) -> Any:
    scheme = urlsplit(uri).scheme
    entry = table.get(scheme)
    if entry is None:
        valid = ", ".join(f"{s}://" for s in sorted(table))
        raise ConfigError(
            f"unknown {kind} URI scheme {scheme!r} in {uri!r}",
            hint=f"valid schemes: {valid}",
        )
    module_name, _, attr_path = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = entry.extra or "all"
        raise BackendUnavailableError(
            f"the {scheme}:// {kind} backend needs a package that is not installed ({exc.name})",
            hint=f"pip install 'modelyard[{extra}]'",
        ) from exc
    factory: Any = module
    for part in attr_path.split("."):
        factory = getattr(factory, part)
    return cast(Callable[[str], Any], factory)(uri)


def open_record_store(uri: str) -> RecordStore:
    """The RecordStore for ``uri`` (no I/O yet: adapters connect on first use).

    Raises:
        ConfigError: unknown scheme or malformed URI.
        BackendUnavailableError: the scheme's optional extra is not installed.
    """
    return cast(RecordStore, _resolve("records", uri, _RECORD_SCHEMES))


def open_blob_store(uri: str) -> BlobStore:
    """The BlobStore for ``uri`` (no I/O yet)."""
    return cast(BlobStore, _resolve("blobs", uri, _BLOB_SCHEMES))
