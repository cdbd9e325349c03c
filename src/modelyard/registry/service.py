"""Model registry use cases over the RecordStore and ContentStore ports.

Record layout::

    models        / <name>              the model (created with its first version)
    model#<name>  / v#<version:010d>    a version: immutable metadata + status, approval,
                                        tags and their history (who, when, why)

Versions are allocated with a conditional write: the version record is put ``if_absent`` at
latest + 1, in one transaction with its lineage records (and, for version 1, the model
record); a writer that loses the race re-reads the latest version and tries the next number.
So concurrent registrations, from threads or processes, never collide and never skip.

Artifacts go to the content-addressed store (sha256) before the transaction; if the
transaction never happens, nothing refers to them (identical content is stored once anyway).
Each version record also carries ``metadata_sha256``, the digest of its immutable fields,
checked on every read, so an edit behind the registry's back is detected.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from modelyard.errors import (
    ChecksumMismatchError,
    ConflictError,
    InvalidInputError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
    StorageError,
)
from modelyard.registry.codeversion import detect_code_version
from modelyard.registry.comparison import VersionComparison, compare_versions
from modelyard.registry.lineage import lineage_writes
from modelyard.registry.model import (
    TRANSITIONS,
    ArtifactInfo,
    DatasetRef,
    Model,
    ModelVersion,
    VersionRef,
    VersionStatus,
    metadata_digest,
)
from modelyard.storage.blobs import BlobRef, ContentStore
from modelyard.storage.keys import validate_name
from modelyard.storage.records import Put, Record, RecordStore
from modelyard.tracking.model import encode_metric, metric_value, validate_key

__all__ = ["ArtifactSource", "RegistryService"]

_MODELS = "models"
_MAX_ATTEMPTS = 500
_MAX_TEXT = 10_000
_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

ArtifactSource = str | Path | bytes
"""A file path, or the bytes themselves (given with a name in a mapping)."""

_UNSET: Any = object()


class Guard(Protocol):
    @property
    def principal(self) -> Any: ...

    def check(self, action: str, resource: str) -> None: ...


class RunSource(Protocol):
    """The tracking service, as the registry needs it."""

    def get_run(self, run_id: str) -> Any: ...


class DatasetCatalog(Protocol):
    """The dataset service, as the registry needs it: resolve ``name``/``version``."""

    def get(self, name: str, version: int | str | None = None) -> Any: ...


def _pk(name: str) -> str:
    return f"model#{name}"


def _sk(version: int) -> str:
    return f"v#{version:010d}"


def _text(what: str, value: object, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise InvalidInputError(f"{what} must not be empty", hint=f"give a {what}")
    if len(value) > _MAX_TEXT:
        raise InvalidInputError(f"{what} is {len(value)} characters; at most {_MAX_TEXT}")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InvalidInputError(f"{what} {value[:40]!r} contains a control character")
    return value


class RegistryService:
    """Models and their versions.

    Args:
        records: the metadata store.
        content: the content-addressed artifact store.
        guard: authorizes and audits every call (``models.<verb>`` on ``model/NAME``).
        runs: resolves run ids (the tracking service); without it run ids are not checked.
        datasets: resolves dataset references (the dataset service); without it a dataset
            reference must name a version number and is not checked.
        code_version: returns the current code version (default: the git commit of the
            working folder, or None outside a repository).
        clock: the time source.
    """

    def __init__(
        self,
        records: RecordStore,
        content: ContentStore,
        guard: Guard,
        *,
        runs: RunSource | None = None,
        datasets: DatasetCatalog | None = None,
        code_version: Callable[[], str | None] = detect_code_version,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._records = records
        self._content = content
        self._guard = guard
        self._runs = runs
        self._datasets = datasets
        self._code_version = code_version
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def _user(self) -> str:
        return str(self._guard.principal.name)

    # -- register ----------------------------------------------------------------------------
    def register(
        self,
        name: str,
        artifacts: Sequence[str | Path] | Mapping[str, ArtifactSource],
        *,
        framework: str = "unknown",
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        input_schema: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        datasets: Sequence[str | DatasetRef] = (),
        run_id: str | None = None,
        code_version: str | None = _UNSET,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register a new version of ``name`` (creating the model on its first version).

        Args:
            artifacts: file paths (stored under their file names), or a mapping
                ``artifact name -> path or bytes``. At least one.
            params, metrics: when omitted and ``run_id`` is given, taken from the run.
            input_schema: column name -> type, in column order.
            datasets: dataset versions used, as ``NAME@V`` or DatasetRef.
            code_version: default: the git commit of the working folder (None outside one).

        Everything is checked before anything is written; the version gets the next number.

        Raises:
            InvalidInputError: invalid name, key, value, schema, dataset reference, or an
                artifact path that does not exist or is a folder.
            RunNotFoundError: ``run_id`` names no run.
            DatasetNotFoundError: a dataset version does not exist.
            PermissionDeniedError: not allowed.
        """
        validate_name("model", name)
        framework = _text("framework", framework, allow_empty=False).strip()
        description = _text("description", description)
        sources = self._artifact_sources(artifacts)
        schema = self._schema(input_schema)
        clean_tags = {
            validate_key("tag", k): _text(f"tag {k!r}", v) for k, v in (tags or {}).items()
        }
        self._guard.check("models.register", f"model/{name}")
        run = None
        if run_id is not None:
            if self._runs is None:
                if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
                    raise InvalidInputError(
                        f"run id {str(run_id)[:80]!r} is not valid",
                        hint="a run id uses letters, digits, '-' and '_' (at most 128)",
                    )
            else:
                run = self._runs.get_run(run_id)
        if params is None:
            params = dict(run.params) if run is not None else {}
        if metrics is None:
            metrics = dict(run.metrics) if run is not None else {}
        clean_params = {validate_key("param", k): str(v) for k, v in params.items()}
        clean_metrics = {
            validate_key("metric", k): encode_metric(metric_value(k, v)) for k, v in metrics.items()
        }
        refs = self._dataset_refs(datasets)
        commit = self._code_version() if code_version is _UNSET else code_version
        if commit is not None:
            commit = _text("code version", commit, allow_empty=False)

        stored: list[ArtifactInfo] = []
        for art_name, source in sources:
            ref = (
                self._content.put(source)
                if isinstance(source, bytes)
                else self._content.put_file(source)
            )
            stored.append(ArtifactInfo(art_name, ref.sha256, ref.size_bytes))

        body: Record = {
            "name": name,
            "framework": framework,
            "params": clean_params,
            "metrics": clean_metrics,
            "input_schema": [list(pair) for pair in schema],
            "datasets": [d.to_dict() for d in refs],
            "run_id": run_id,
            "code_version": commit,
            "created_by": self._user,
            "artifacts": [a.to_dict() for a in stored],
            "description": description,
        }
        return self._allocate(name, body, clean_tags)

    def _allocate(self, name: str, body: Record, tags: Mapping[str, str]) -> ModelVersion:
        version = self._latest_number(name) + 1
        for attempt in range(_MAX_ATTEMPTS):
            now = self._clock()
            record: Record = {
                "pk": _pk(name),
                "sk": _sk(version),
                **body,
                "version": version,
                "created_at": now.isoformat(),
                "status": VersionStatus.PENDING.value,
                "tags": dict(tags),
                "approval": None,
                "history": [
                    {
                        "action": "register",
                        "by": body["created_by"],
                        "at": now.isoformat(),
                        "comment": "",
                        "detail": {"status": VersionStatus.PENDING.value},
                    }
                ],
                "revision": 1,
            }
            record["metadata_sha256"] = metadata_digest(record)
            mv = ModelVersion.from_record(record)
            writes: list[Put] = [Put(record, if_absent=True), *lineage_writes(mv)]
            if version == 1:
                writes.append(
                    Put(
                        {
                            "pk": _MODELS,
                            "sk": name,
                            "name": name,
                            "created_at": now.isoformat(),
                            "created_by": body["created_by"],
                        },
                        if_absent=True,
                    )
                )
            try:
                self._records.transact(writes)
            except ConflictError:
                # Another writer took this number: try the one after the current latest.
                version = max(version + 1, self._latest_number(name) + 1)
                time.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))  # noqa: S311
                continue
            return mv
        raise StorageError(
            f"could not allocate a version of model {name!r} after {_MAX_ATTEMPTS} attempts",
            retryable=True,
        )

    def _artifact_sources(
        self, artifacts: Sequence[str | Path] | Mapping[str, ArtifactSource]
    ) -> list[tuple[str, Path | bytes]]:
        pairs: list[tuple[str, ArtifactSource]]
        if isinstance(artifacts, Mapping):
            pairs = list(artifacts.items())
        elif isinstance(artifacts, str | Path | bytes):
            raise InvalidInputError(
                "artifacts must be a list of paths or a mapping name -> path or bytes",
                hint="pass artifacts=['model.txt'], not artifacts='model.txt'",
            )
        else:
            pairs = [(Path(p).name, p) for p in artifacts]
        if not pairs:
            raise InvalidInputError(
                "a model version needs at least one artifact",
                hint="pass the model file(s): --artifact PATH",
            )
        result: list[tuple[str, Path | bytes]] = []
        seen: set[str] = set()
        for art_name, source in pairs:
            if not isinstance(source, bytes | bytearray):
                self._check_file(Path(source))
            validate_name("artifact", art_name)
            if art_name in seen:
                raise InvalidInputError(
                    f"two artifacts are named {art_name!r}",
                    hint="artifact names (file names) must be unique within a version",
                )
            seen.add(art_name)
            if isinstance(source, bytes | bytearray):
                result.append((art_name, bytes(source)))
                continue
            result.append((art_name, Path(source)))
        return result

    @staticmethod
    def _check_file(path: Path) -> None:
        if not path.exists():
            raise InvalidInputError(f"artifact {str(path)!r} does not exist", hint="check the path")
        if not path.is_file():
            raise InvalidInputError(
                f"artifact {str(path)!r} is a folder, not a file",
                hint="give each file with its own --artifact (or archive the folder)",
            )

    @staticmethod
    def _schema(
        input_schema: Mapping[str, str] | Sequence[tuple[str, str]] | None,
    ) -> list[tuple[str, str]]:
        if input_schema is None:
            return []
        pairs = list(input_schema.items()) if isinstance(input_schema, Mapping) else input_schema
        result: list[tuple[str, str]] = []
        seen: set[str] = set()
        for pair in pairs:
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise InvalidInputError(f"input schema entry {pair!r} is not a (column, type) pair")
            column = _text("column name", pair[0], allow_empty=False)
            kind = _text(f"type of column {column!r}", pair[1], allow_empty=False)
            if column in seen:
                raise InvalidInputError(f"column {column!r} appears twice in the input schema")
            seen.add(column)
            result.append((column, kind))
        return result

    def _dataset_refs(self, datasets: Sequence[str | DatasetRef]) -> list[DatasetRef]:
        if isinstance(datasets, str):
            datasets = [datasets]
        refs: list[DatasetRef] = []
        for item in datasets:
            ref = item if isinstance(item, DatasetRef) else None
            if self._datasets is None:
                ref = ref or DatasetRef.parse(item)  # type: ignore[arg-type]
            else:
                # The dataset service checks existence and resolves `latest` / `approved`.
                if ref is None:
                    dname, sep, spec = str(item).rpartition("@")
                    if not sep:
                        DatasetRef.parse(str(item))  # raises the usual message
                    validate_name("dataset", dname)
                    wanted: int | str = int(spec) if spec.isdigit() else spec
                else:
                    dname, wanted = ref.name, ref.version
                found = self._datasets.get(dname, wanted)
                ref = DatasetRef(dname, int(found.version))
            if ref in refs:
                raise InvalidInputError(f"dataset {ref} is listed twice")
            refs.append(ref)
        return refs

    # -- read --------------------------------------------------------------------------------
    def _latest_number(self, name: str) -> int:
        for rec in self._records.query(_pk(name), prefix="v#", reverse=True, limit=1):
            return int(rec["version"])
        return 0

    def _record(self, name: str, version: int | None) -> Record:
        if version is None:
            newest = self._records.query(_pk(name), prefix="v#", reverse=True, limit=1)
            found = next(iter(newest), None)
            if found is None:
                raise ModelNotFoundError(f"no model named {name!r}")
            return found
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInputError(
                f"version {version!r} of model {name!r} is not a number >= 1",
                hint="versions are whole numbers starting at 1",
            )
        rec = self._records.find(_pk(name), _sk(version))
        if rec is None:
            latest = self._latest_number(name)
            if latest == 0:
                raise ModelNotFoundError(f"no model named {name!r}")
            raise ModelVersionNotFoundError(
                f"model {name!r} has no version {version}; latest is {latest}"
            )
        return rec

    @staticmethod
    def _verified(rec: Record) -> ModelVersion:
        if metadata_digest(rec) != rec.get("metadata_sha256"):
            raise ChecksumMismatchError(
                f"the metadata of {rec.get('name')}@{rec.get('version')} was altered after "
                "registration (its digest no longer matches)",
                hint="restore the record from a backup; registered versions never change",
            )
        return ModelVersion.from_record(rec)

    @staticmethod
    def _ref(ref: str | VersionRef) -> VersionRef:
        return VersionRef.parse(ref) if isinstance(ref, str) else ref

    def get_version(self, name: str, version: int | None = None) -> ModelVersion:
        """A version (the latest if ``version`` is None), its metadata verified.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError, InvalidInputError,
            ChecksumMismatchError (the record was edited behind the registry's back).
        """
        validate_name("model", name)
        self._guard.check("models.read", f"model/{name}")
        return self._verified(self._record(name, version))

    def get(self, ref: str | VersionRef) -> ModelVersion:
        """``get_version`` for ``NAME@V`` (or ``NAME@latest``)."""
        parsed = self._ref(ref)
        return self.get_version(parsed.name, parsed.version)

    def find_version(self, name: str, version: int) -> ModelVersion | None:
        """The version, or None if the model or the version does not exist."""
        try:
            return self.get_version(name, version)
        except ModelNotFoundError:
            return None

    def list_models(self) -> list[Model]:
        """Every model, by name, with its latest version and that version's status."""
        self._guard.check("models.read", "model/*")
        models = []
        for rec in self._records.query(_MODELS):
            newest = self._records.query(_pk(rec["name"]), prefix="v#", reverse=True, limit=1)
            latest = next(iter(newest))
            models.append(
                Model(
                    rec["name"],
                    datetime.fromisoformat(rec["created_at"]),
                    rec["created_by"],
                    int(latest["version"]),
                    VersionStatus(latest["status"]),
                )
            )
        return models

    def list_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first.

        Raises:
            ModelNotFoundError.
        """
        validate_name("model", name)
        self._guard.check("models.read", f"model/{name}")
        versions = [self._verified(r) for r in self._records.query(_pk(name), prefix="v#")]
        if not versions:
            raise ModelNotFoundError(f"no model named {name!r}")
        return versions

    # -- workflow ----------------------------------------------------------------------------
    def approve(self, name: str, version: int, *, comment: str) -> ModelVersion:
        """pending -> approved, recording who, when and why.

        Raises:
            ConflictError: the version is not pending. InvalidInputError: empty comment.
        """
        return self._transition(name, version, VersionStatus.APPROVED, comment)

    def reject(self, name: str, version: int, *, comment: str) -> ModelVersion:
        """pending -> rejected, recording who, when and why."""
        return self._transition(name, version, VersionStatus.REJECTED, comment)

    def archive(self, name: str, version: int, *, comment: str) -> ModelVersion:
        """approved -> archived, recording who, when and why."""
        return self._transition(name, version, VersionStatus.ARCHIVED, comment)

    def _transition(
        self, name: str, version: int, target: VersionStatus, comment: str
    ) -> ModelVersion:
        validate_name("model", name)
        comment = _text("comment", comment, allow_empty=False)
        verb = {
            VersionStatus.APPROVED: "approve",
            VersionStatus.REJECTED: "reject",
            VersionStatus.ARCHIVED: "archive",
        }[target]
        self._guard.check(f"models.{verb}", f"model/{name}@{version}")

        def change(rec: Record, now: datetime) -> None:
            current = VersionStatus(rec["status"])
            if target not in TRANSITIONS[current]:
                allowed = ", ".join(TRANSITIONS[current].values()) or "nothing (final)"
                raise ConflictError(
                    f"cannot {verb} {name}@{version}: it is {current.value} "
                    f"(a {current.value} version allows: {allowed})",
                    hint="only pending versions are approved or rejected; only approved "
                    "ones are archived",
                )
            rec["status"] = target.value
            if target in (VersionStatus.APPROVED, VersionStatus.REJECTED):
                rec["approval"] = {
                    "decision": target.value,
                    "by": self._user,
                    "at": now.isoformat(),
                    "comment": comment,
                }
            rec["history"].append(
                {
                    "action": verb,
                    "by": self._user,
                    "at": now.isoformat(),
                    "comment": comment,
                    "detail": {"from": current.value, "to": target.value},
                }
            )

        return self._update(name, version, change)

    def set_tag(
        self, name: str, version: int, key: str, value: str, *, comment: str = ""
    ) -> ModelVersion:
        """Set a tag on a version (recorded in its history)."""
        validate_name("model", name)
        validate_key("tag", key)
        value = _text(f"tag {key!r}", value)
        comment = _text("comment", comment)
        self._guard.check("models.tag", f"model/{name}@{version}")

        def change(rec: Record, now: datetime) -> None:
            old = rec["tags"].get(key)
            rec["tags"][key] = value
            rec["history"].append(
                {
                    "action": "tag",
                    "by": self._user,
                    "at": now.isoformat(),
                    "comment": comment,
                    "detail": {"key": key, "from": old, "to": value},
                }
            )

        return self._update(name, version, change)

    def _update(
        self, name: str, version: int, change: Callable[[Record, datetime], None]
    ) -> ModelVersion:
        for _ in range(_MAX_ATTEMPTS):
            rec = self._record(name, version)
            self._verified(rec)
            new = dict(rec)
            new["tags"] = dict(rec["tags"])
            new["history"] = list(rec["history"])
            change(new, self._clock())
            new["revision"] = int(rec["revision"]) + 1
            try:
                self._records.put(new, expect={"revision": rec["revision"]})
            except ConflictError:
                continue
            return ModelVersion.from_record(new)
        raise StorageError(f"{name}@{version} kept changing under this writer", retryable=True)

    # -- compare and load --------------------------------------------------------------------
    def compare(self, a: str | VersionRef, b: str | VersionRef) -> VersionComparison:
        """Every metric of both versions with absolute and relative differences, and params.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError, InvalidInputError.
        """
        return compare_versions(self.get(a), self.get(b))

    def load_artifact(self, name: str, version: int, artifact: str | None = None) -> bytes:
        """The bytes of one artifact (the only one if ``artifact`` is None), checksum verified.

        Never unpickles anything: turning bytes into a model is the caller's job, with the
        framework's own format.

        Raises:
            ChecksumMismatchError: the stored bytes were altered.
            InvalidInputError: no such artifact, or several and none named.
        """
        mv = self.get_version(name, version)
        if artifact is None:
            if len(mv.artifacts) != 1:
                raise InvalidInputError(
                    f"{mv.ref} has {len(mv.artifacts)} artifacts; name one of: "
                    + ", ".join(a.name for a in mv.artifacts)
                )
            info = mv.artifacts[0]
        else:
            info = mv.artifact(artifact)
        return self._content.get(BlobRef(info.sha256, info.size_bytes))

    def load_artifacts(self, name: str, version: int) -> dict[str, bytes]:
        """Every artifact of a version, each checksum verified (all or an error)."""
        mv = self.get_version(name, version)
        return {a.name: self._content.get(BlobRef(a.sha256, a.size_bytes)) for a in mv.artifacts}

    def download(self, name: str, version: int, folder: str | Path) -> list[Path]:
        """Write every artifact, verified, into ``folder`` (created); return the paths."""
        target = Path(folder)
        data = self.load_artifacts(name, version)
        target.mkdir(parents=True, exist_ok=True)
        paths = []
        for art_name, payload in data.items():
            path = target / art_name
            path.write_bytes(payload)
            paths.append(path)
        return paths
