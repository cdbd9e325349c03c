"""Principals, authorization policies and the hash-chained audit log."""

from modelyard.access.audit import AuditLog, AuditVerification
from modelyard.access.model import AuditEntry, Principal
from modelyard.access.policy import AllowAll, Policy, RolePolicy
from modelyard.access.service import AccessGuard, AuditService, Authorizer

__all__ = [
    "AccessGuard",
    "AllowAll",
    "AuditEntry",
    "AuditLog",
    "AuditService",
    "AuditVerification",
    "Authorizer",
    "Policy",
    "Principal",
    "RolePolicy",
]
