"""Principals, actions and audit entries."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from modelyard.errors import InvalidInputError

__all__ = ["AuditEntry", "Outcome", "Principal", "principal_from_env"]

Outcome = Literal["allowed", "denied"]


@dataclass(frozen=True)
class Principal:
    """Who acts: a user or service name and the roles it holds."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "roles": sorted(self.roles)}


def principal_from_env(env: Mapping[str, str], user: str | None = None) -> Principal:
    """The principal named by ``user`` (settings), ``MODELYARD_USER``, else the OS user."""
    name = user or env.get("MODELYARD_USER") or _os_user()
    name = name.strip()
    if not name or any(ord(c) < 32 for c in name):
        raise InvalidInputError(
            f"user name {name!r} is empty or has control characters",
            hint="set MODELYARD_USER to a plain name such as 'alice'",
        )
    return Principal(name=name)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class AuditEntry:
    """One authorization attempt, chained to the entry before it by hash."""

    seq: int
    time: datetime
    principal: str
    action: str
    resource: str
    outcome: Outcome
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "outcome": self.outcome,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
