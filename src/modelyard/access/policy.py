"""Authorization policies: the seam every service passes through before it acts.

A policy answers one question: may this principal perform this action on this resource?
Actions are dotted names (``models.register``, ``datasets.read``); resources are paths
(``model/adherence``). ``AllowAll`` is the default; ``RolePolicy`` maps roles to action
patterns and is where role-based access control plugs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Protocol

from modelyard.access.model import Principal

__all__ = ["AllowAll", "Policy", "RolePolicy"]


class Policy(Protocol):
    """Decides; never raises, never writes."""

    def allows(self, principal: Principal, action: str, resource: str) -> bool: ...


class AllowAll:
    """The default policy: everything is allowed (and still audited)."""

    def allows(self, principal: Principal, action: str, resource: str) -> bool:
        return True


class RolePolicy:
    """Allows an action iff one of the principal's roles has a matching action pattern.

    Args:
        grants: role -> action patterns (``fnmatch`` style: ``models.*``, ``*.read``).
    """

    def __init__(self, grants: Mapping[str, frozenset[str] | set[str]]) -> None:
        self.grants = {role: frozenset(patterns) for role, patterns in grants.items()}

    def allows(self, principal: Principal, action: str, resource: str) -> bool:
        return any(
            fnmatchcase(action, pattern)
            for role in principal.roles
            for pattern in self.grants.get(role, ())
        )
