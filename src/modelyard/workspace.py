"""The composition root: Settings -> adapters -> services. The only place that wires.

``open_workspace()`` builds nothing expensive: adapters connect on first use and services are
created on first access (``functools.cached_property``). ``Workspace.init()`` is the one step
that creates the home folder and the stores.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from modelyard.access import (
    AccessGuard,
    AllowAll,
    AuditLog,
    AuditService,
    Authorizer,
    Policy,
    Principal,
)
from modelyard.access.model import principal_from_env
from modelyard.errors import ConfigError, StorageError
from modelyard.settings import Settings
from modelyard.storage.blobs import BlobStore, ContentStore
from modelyard.storage.records import RecordStore
from modelyard.storage.uri import open_blob_store, open_record_store

__all__ = ["Workspace", "open_workspace"]

_META = ("workspace", "meta")


class Workspace:
    """One modelyard workspace: its stores, its principal, and its services."""

    def __init__(
        self,
        settings: Settings,
        *,
        principal: Principal,
        records: RecordStore,
        blobs: BlobStore,
        policy: Policy | None = None,
    ) -> None:
        self.settings = settings
        self.principal = principal
        self.records = records
        self.blobs = blobs
        self.policy: Policy = policy if policy is not None else AllowAll()

    # -- foundation -------------------------------------------------------------------------
    @cached_property
    def content(self) -> ContentStore:
        """Content-addressed, checksum-verified artifacts."""
        return ContentStore(self.blobs)

    @cached_property
    def audit_log(self) -> AuditLog:
        """The raw hash-chained log (writing is done by the authorizer)."""
        return AuditLog(self.records)

    @cached_property
    def audit(self) -> AuditService:
        """List and verify the audit log (audited reads)."""
        return AuditService(self.guard, self.audit_log)

    @cached_property
    def authorizer(self) -> Authorizer:
        return Authorizer(self.policy, self.audit_log)

    @cached_property
    def guard(self) -> AccessGuard:
        """What services call before they act: ``guard.check(action, resource)``."""
        return AccessGuard(self.authorizer, self.principal)

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self) -> dict[str, Any]:
        """Create the home folder and the stores (idempotent); return ``info()``.

        Raises:
            StorageError: the home folder cannot be created or written.
        """
        home = self.settings.home
        if self.settings.records_uri.startswith("sqlite:") or self.settings.blobs_uri.startswith(
            "file:"
        ):
            try:
                home.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the workspace folder {str(home)!r}: {exc.strerror}",
                    hint="choose a writable folder with MODELYARD_HOME",
                ) from exc
            if not os.access(home, os.W_OK | os.X_OK):
                raise StorageError(
                    f"the workspace folder {str(home)!r} is not writable",
                    hint="fix its permissions or choose another folder with MODELYARD_HOME",
                )
        self.guard.check("workspace.init", "workspace")
        if self.records.find(*_META) is None:
            self.records.put(
                {
                    "pk": _META[0],
                    "sk": _META[1],
                    "created_at": datetime.now(UTC).isoformat(),
                    "created_by": self.principal.name,
                },
                if_absent=True,
            )
        return self.info()

    def info(self) -> dict[str, Any]:
        """Where this workspace lives and when it was created.

        Raises:
            ConfigError: the workspace was never initialised.
        """
        meta = self.records.find(*_META)
        if meta is None:
            raise ConfigError(
                f"no modelyard workspace at {str(self.settings.home)!r}",
                hint="run `modelyard init` (or set MODELYARD_HOME to an existing workspace)",
            )
        return {
            "home": str(self.settings.home),
            "records_uri": self.settings.records_uri,
            "blobs_uri": self.settings.blobs_uri,
            "user": self.principal.name,
            "created_at": meta["created_at"],
            "created_by": meta["created_by"],
        }

    def close(self) -> None:
        self.records.close()


def open_workspace(
    settings: Settings | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: str | Path | None = None,
    principal: Principal | None = None,
    policy: Policy | None = None,
    create: bool = False,
) -> Workspace:
    """Open (and with ``create=True`` initialise) a workspace.

    Args:
        settings: explicit settings; default ``Settings.load(env)``.
        env: the environment to read ``MODELYARD_*`` from (default ``os.environ``).
        home: overrides ``MODELYARD_HOME``.
        principal: who acts; default from settings, ``MODELYARD_USER`` or the OS user.
        policy: the authorization policy; default allow-all (still audited).
        create: run ``init()`` (create the folder and stores) before returning.

    Raises:
        ConfigError: invalid settings or an unknown backend URI scheme.
        BackendUnavailableError: a backend's optional extra is missing.
    """
    env = os.environ if env is None else env
    if settings is None:
        settings = Settings.load(env, home=home)
    if principal is None:
        principal = principal_from_env(env, settings.user)
    workspace = Workspace(
        settings,
        principal=principal,
        records=open_record_store(settings.records_uri),
        blobs=open_blob_store(settings.blobs_uri),
        policy=policy,
    )
    if create:
        workspace.init()
    return workspace
