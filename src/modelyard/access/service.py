"""The access guard: authorize, audit, then let the service act."""

from __future__ import annotations

from collections.abc import Iterator

from modelyard.access.audit import AuditLog, AuditVerification
from modelyard.access.model import AuditEntry, Principal
from modelyard.access.policy import Policy
from modelyard.errors import PermissionDeniedError

__all__ = ["AccessGuard", "AuditService", "Authorizer"]


class Authorizer:
    """``authorize(principal, action, resource)``: audit the attempt, raise if denied."""

    def __init__(self, policy: Policy, audit: AuditLog) -> None:
        self.policy = policy
        self.audit = audit

    def authorize(self, principal: Principal, action: str, resource: str) -> None:
        """Record the attempt in the audit log and return if allowed.

        Raises:
            PermissionDeniedError: the policy does not allow it (the refusal is audited too).
        """
        allowed = self.policy.allows(principal, action, resource)
        self.audit.append(principal.name, action, resource, "allowed" if allowed else "denied")
        if not allowed:
            roles = ", ".join(sorted(principal.roles)) or "none"
            raise PermissionDeniedError(
                f"{principal.name!r} (roles: {roles}) may not {action} on {resource!r}"
            )


class AccessGuard:
    """An Authorizer bound to the workspace's principal; what services receive."""

    def __init__(self, authorizer: Authorizer, principal: Principal) -> None:
        self.authorizer = authorizer
        self.principal = principal

    def check(self, action: str, resource: str) -> None:
        """Authorize ``action`` on ``resource`` for this principal (audited).

        Raises:
            PermissionDeniedError: not allowed.
        """
        self.authorizer.authorize(self.principal, action, resource)


class AuditService:
    """Reading and verifying the audit log (itself an audited action)."""

    def __init__(self, guard: AccessGuard, log: AuditLog) -> None:
        self._guard = guard
        self._log = log

    def list_entries(
        self, *, limit: int | None = 50, newest_first: bool = True
    ) -> list[AuditEntry]:
        self._guard.check("audit.read", "audit")
        return list(self._log.entries(reverse=newest_first, limit=limit))

    def verify(self) -> AuditVerification:
        self._guard.check("audit.verify", "audit")
        return self._log.verify()

    def iter_entries(self) -> Iterator[AuditEntry]:
        self._guard.check("audit.read", "audit")
        return self._log.entries()
