"""Validation of keys and names: one place, used by every adapter and service.

Pure: no I/O. A key or name that could escape a folder, hide a control character or collide
with the storage layout is refused with InvalidInputError before anything touches a backend.
"""

from __future__ import annotations

import re

from modelyard.errors import InvalidInputError

__all__ = [
    "MAX_BLOB_KEY_CHARS",
    "MAX_RECORD_KEY_CHARS",
    "validate_blob_key",
    "validate_blob_prefix",
    "validate_name",
    "validate_record_key",
]

MAX_RECORD_KEY_CHARS = 1024
MAX_BLOB_KEY_CHARS = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_BLOB_SEGMENT = re.compile(r"^[A-Za-z0-9._=+@-]+$")


def _describe(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def validate_record_key(what: str, value: object) -> str:
    """Check a partition or sort key; return it unchanged.

    Raises:
        InvalidInputError: not a string, empty, too long, or containing control characters.
    """
    if type(value) is str and 0 < len(value) <= MAX_RECORD_KEY_CHARS and value.isprintable():
        return value  # the common case, checked without a regex
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(f"{what} must not be empty")
    if len(value) > MAX_RECORD_KEY_CHARS:
        raise InvalidInputError(
            f"{what} is {len(value)} characters long; at most {MAX_RECORD_KEY_CHARS} allowed"
        )
    if _CONTROL.search(value):
        raise InvalidInputError(f"{what} {_describe(value)} contains a control character")
    return value


def validate_blob_key(key: object) -> str:
    """Check a blob key (``a/b/c.bin``); return it unchanged.

    Keys are relative, '/'-separated paths whose segments use letters, digits and ``._=+@-`` and
    do not start with '.' (so no '.', '..' or hidden names, which adapters reserve).

    Raises:
        InvalidInputError: empty, absolute, with empty segments or segments starting with '.',
            a control character, or another character outside the allowed set.
    """
    if not isinstance(key, str):
        raise InvalidInputError(f"blob key must be a string, got {type(key).__name__}")
    if not key:
        raise InvalidInputError("blob key must not be empty")
    if len(key) > MAX_BLOB_KEY_CHARS:
        raise InvalidInputError(
            f"blob key is {len(key)} characters long; at most {MAX_BLOB_KEY_CHARS} allowed"
        )
    if _CONTROL.search(key):
        raise InvalidInputError(f"blob key {_describe(key)} contains a control character")
    if key.startswith("/") or key.startswith("\\") or re.match(r"^[A-Za-z]:", key):
        raise InvalidInputError(
            f"blob key {_describe(key)} is absolute; keys are relative paths like 'a/b.bin'"
        )
    for segment in key.split("/"):
        if segment == "" or segment.startswith("."):
            raise InvalidInputError(
                f"blob key {_describe(key)} has an empty segment or one starting with '.'",
                hint="use relative keys without '..', e.g. 'models/churn/1/model.txt'",
            )
        if not _BLOB_SEGMENT.match(segment):
            raise InvalidInputError(
                f"blob key {_describe(key)} has a character outside letters, digits and ._=+@-",
            )
    return key


def validate_blob_prefix(prefix: object) -> str:
    """Check a listing prefix: empty, or a valid key optionally ending with '/'."""
    if prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise InvalidInputError(f"blob prefix must be a string, got {type(prefix).__name__}")
    validate_blob_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def validate_name(kind: str, name: object) -> str:
    """Check a user-facing name (model, dataset, experiment, feature group …).

    Names start with a letter or digit and use letters, digits, ``.``, ``_`` and ``-``; at most
    128 characters. That keeps them safe as path segments and URL parts on every backend.

    Raises:
        InvalidInputError: naming the kind, the offending value and the rule.
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        shown = _describe(name) if isinstance(name, str) else repr(name)
        raise InvalidInputError(
            f"{kind} name {shown} is not valid",
            hint=(
                f"a {kind} name starts with a letter or digit and uses only letters, digits, "
                "'.', '_' and '-' (no '/', no '..', at most 128 characters)"
            ),
        )
    return name
