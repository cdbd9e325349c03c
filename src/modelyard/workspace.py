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
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    # capability services are imported where they are built, so that opening a workspace
    # (and starting the CLI) does not load polars, scipy and lightgbm until they are used
    from modelyard.alerts.metrics import MetricsSink
    from modelyard.alerts.service import AlarmService, MetricsService
    from modelyard.datasets import DatasetService
    from modelyard.datasets.catalog import CatalogService
    from modelyard.features import FeatureService
    from modelyard.pipelines.service import PipelineService
    from modelyard.quality.service import MonitorService
    from modelyard.registry import LineageService, RegistryService
    from modelyard.tracking import TrackingService

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

    @cached_property
    def tracking(self) -> TrackingService:
        """Experiments and runs: params, step-wise metrics, tags, artifacts, search."""
        from modelyard.tracking import TrackingService

        return TrackingService(self.records, self.content, self.guard)

    @cached_property
    def registry(self) -> RegistryService:
        """Model versions, approvals, comparison, verified artifact loading."""
        from modelyard.registry import RegistryService

        return RegistryService(
            self.records,
            self.content,
            self.guard,
            runs=self.tracking,
            datasets=self.datasets,  # checks and resolves dataset references
        )

    @cached_property
    def lineage(self) -> LineageService:
        """Model version <-> run and dataset versions, both ways."""
        from modelyard.registry import LineageService

        return LineageService(self.records, self.guard, runs=self.tracking)

    @cached_property
    def datasets(self) -> DatasetService:
        """Dataset versions, validation, statistics, profiles, anomalies, approval, lineage."""
        from modelyard.datasets import DatasetService

        return DatasetService(
            self.records,
            self.content,
            self.guard,
            principal=self.principal.name,
            approved_only=self.settings.approved_only,
            model_links=self.lineage,
        )

    @cached_property
    def catalog(self) -> CatalogService:
        """External datasets (AWS Open Data Registry format) and cached imports."""
        from modelyard.datasets.catalog import CatalogService, Fetcher

        return CatalogService(
            self.datasets,
            Fetcher(self.records, self.content),
            self.guard,
            extra_dirs=[self.settings.home / "catalog"],
        )

    @cached_property
    def features(self) -> FeatureService:
        """Feature groups, offline point-in-time retrieval and online serving."""
        from modelyard.features import FeatureService
        from modelyard.storage.online import open_online_store

        online_uri = self.settings.online_uri or f"sqlite:///{self.settings.home / 'online.db'}"
        return FeatureService(self.records, self.blobs, open_online_store(online_uri), self.guard)

    @cached_property
    def metrics_sink(self) -> MetricsSink:
        """The metrics sink port: local time series in the record store."""
        from modelyard.alerts.metrics import RecordMetricsSink

        return RecordMetricsSink(self.records)

    @cached_property
    def metrics(self) -> MetricsService:
        """Publish and query metrics (CloudWatch-shaped)."""
        from modelyard.alerts.service import MetricsService

        return MetricsService(self.guard, self.metrics_sink)

    @cached_property
    def alarms(self) -> AlarmService:
        """Alarms with CloudWatch semantics; set ``alarms.retrain_hook`` to queue retraining."""
        from modelyard.alerts.service import AlarmService

        return AlarmService(self.records, self.guard, self.metrics_sink)

    @cached_property
    def monitor(self) -> MonitorService:
        """Baselines, drift and quality checks, reports; metrics and alarms on every check."""
        from modelyard.quality.service import MonitorService

        return MonitorService(self.records, self.content, self.guard, self.metrics, self.alarms)

    @cached_property
    def pipelines(self) -> PipelineService:
        """Training and inference pipelines (tracked runs, live step logs, stored results)."""
        from modelyard.pipelines.service import PipelineService

        return PipelineService(
            self.records,
            self.content,
            self.guard,
            tracking=self.tracking,
            registry=self.registry,
            datasets=self.datasets,
            monitor=self.monitor,
            alarms=self.alarms,
            features=self.features,
        )

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
