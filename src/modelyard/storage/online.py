"""The URI registry of online feature stores (``sqlite:///…``, ``memory://``), imported lazily.

The port itself lives with its capability (``modelyard.features.online.OnlineStore``); the
adapters here satisfy it structurally and know nothing of features.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit

from modelyard.errors import BackendUnavailableError, ConfigError

__all__ = ["open_online_store", "register_online_scheme"]

_SCHEMES: dict[str, tuple[str, str | None]] = {
    "memory": ("modelyard.storage.online_memory:MemoryOnlineStore", None),
    "sqlite": ("modelyard.storage.online_sqlite:SqliteOnlineStore", None),
}


def register_online_scheme(scheme: str, target: str, extra: str | None = None) -> None:
    """Add an online store adapter (``target`` is ``module:Class``, with ``from_uri``)."""
    _SCHEMES[scheme] = (target, extra)


def open_online_store(uri: str) -> Any:
    """The online store adapter for ``uri`` (no I/O yet).

    Raises:
        ConfigError: unknown scheme.
        BackendUnavailableError: the scheme's optional extra is not installed.
    """
    scheme = urlsplit(uri).scheme
    if scheme not in _SCHEMES:
        valid = ", ".join(f"{s}://" for s in sorted(_SCHEMES))
        raise ConfigError(
            f"unknown online store URI scheme {scheme!r} in {uri!r}", hint=f"valid schemes: {valid}"
        )
    target, extra = _SCHEMES[scheme]
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the {scheme}:// online store needs a package that is not installed ({exc.name})",
            hint=f"pip install 'modelyard[{extra or 'all'}]'",
        ) from exc
    return getattr(module, cls_name).from_uri(uri)
