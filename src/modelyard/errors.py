"""The whole modelyard error tree.

Every error carries a message that says what was wanted and what was found, and a ``hint``
that says what to do about it. The CLI prints both (``error:`` / ``hint:``) and exits with the
class's ``exit_code``; the REST API maps the class to an HTTP status by walking the hierarchy.

::

    ModelyardError                      exit 1   .hint; never raised bare
    ├── ConfigError                     exit 3   bad settings, unknown URI scheme
    │   └── BackendUnavailableError     exit 3   a missing optional extra
    ├── NotFoundError (LookupError)     exit 4
    │   ├── RecordNotFoundError
    │   ├── BlobNotFoundError
    │   ├── ModelNotFoundError
    │   ├── ModelVersionNotFoundError
    │   ├── ExperimentNotFoundError
    │   ├── RunNotFoundError
    │   ├── ArtifactNotFoundError
    │   ├── DatasetNotFoundError
    │   ├── FeatureGroupNotFoundError
    │   └── EntityNotFoundError          no online feature value for an entity key
    ├── AlreadyExistsError              exit 5
    │   └── RecordExistsError      (also ConflictError)
    ├── InvalidInputError (ValueError)  exit 2   bad files, schema violations, bad filters, keys
    │   ├── ChecksumMismatchError                stored bytes differ from their recorded sha256
    │   ├── SchemaViolationError                 data breaks its declared schema; .violations
    │   └── FilterSyntaxError                    a search filter does not parse; .column
    ├── ConflictError                   exit 6   lost race, illegal state transition
    ├── PermissionDeniedError           exit 7
    ├── DataQualityError                exit 8   .report
    ├── PipelineError                   exit 9   .step, cause chained
    └── StorageError                    exit 10  backend failure, .retryable, cause chained

Exit code 2 is shared with usage errors of the command line parser (also bad input).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

__all__ = [
    "AlarmNotFoundError",
    "AlreadyExistsError",
    "ArtifactNotFoundError",
    "BackendUnavailableError",
    "BaselineNotFoundError",
    "BlobNotFoundError",
    "ChecksumMismatchError",
    "ConfigError",
    "ConflictError",
    "DataQualityError",
    "DatasetNotFoundError",
    "EntityNotFoundError",
    "ExperimentNotFoundError",
    "FeatureGroupNotFoundError",
    "FilterSyntaxError",
    "InvalidInputError",
    "ModelNotFoundError",
    "ModelVersionNotFoundError",
    "ModelyardError",
    "NotFoundError",
    "PermissionDeniedError",
    "PipelineError",
    "RecordExistsError",
    "RecordNotFoundError",
    "ReportNotFoundError",
    "RunNotFoundError",
    "SchemaViolationError",
    "StorageError",
    "describe_problems",
]


class ModelyardError(Exception):
    """Base of every error modelyard raises on purpose.

    Args:
        message: what was wanted and what was found.
        hint: what the user can do about it; each class has a sensible default.
    """

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    default_hint: ClassVar[str] = "see `modelyard --help`"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for ``--json`` output and API error bodies."""
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class ConfigError(ModelyardError):
    """Settings or a backend URI are wrong."""

    exit_code = 3
    http_status = 500
    default_hint = "check MODELYARD_* environment variables and modelyard.toml"


class BackendUnavailableError(ConfigError):
    """A backend needs an optional extra that is not installed."""

    default_hint = "install the extra it names, e.g. pip install 'modelyard[aws]'"


class NotFoundError(ModelyardError, LookupError):
    """The thing asked for does not exist."""

    exit_code = 4
    http_status = 404
    default_hint = "list what exists with the matching `list` command"


class RecordNotFoundError(NotFoundError):
    """No record at this (partition key, sort key)."""


class BlobNotFoundError(NotFoundError):
    """No blob under this key."""


class ModelNotFoundError(NotFoundError):
    """No model of this name."""

    default_hint = "run `modelyard models list` to see registered models"


class ModelVersionNotFoundError(ModelNotFoundError):
    """The model exists but not this version."""

    default_hint = "run `modelyard models versions NAME` to see its versions"


class ExperimentNotFoundError(NotFoundError):
    """No experiment of this name."""

    default_hint = "run `modelyard experiments list`"


class RunNotFoundError(NotFoundError):
    """No run with this id."""

    default_hint = "run `modelyard runs list`"


class DatasetNotFoundError(NotFoundError):
    """No dataset (or dataset version) of this name."""

    default_hint = "run `modelyard datasets list`"


class FeatureGroupNotFoundError(NotFoundError):
    """No feature group (or version) of this name."""

    default_hint = "run `modelyard features list`"


class AlreadyExistsError(ModelyardError):
    """Something with this identity exists already."""

    exit_code = 5
    http_status = 409
    default_hint = "choose another name, or use the existing one"


class ConflictError(ModelyardError):
    """A lost race or an illegal state transition; nothing was written."""

    exit_code = 6
    http_status = 409
    default_hint = "re-read the current state and try again"


class RecordExistsError(AlreadyExistsError, ConflictError):
    """A conditional put found the key already taken (also a ConflictError in transactions)."""


class InvalidInputError(ModelyardError, ValueError):
    """The input (a file, a name, a filter, an argument) is not acceptable."""

    exit_code = 2
    http_status = 422
    default_hint = "fix the input as the message says and try again"


class ChecksumMismatchError(InvalidInputError):
    """Stored bytes no longer match the sha256 recorded when they were written."""

    default_hint = "the stored artifact was altered or corrupted; restore it or register again"


class PermissionDeniedError(ModelyardError):
    """The principal's roles do not allow this action."""

    exit_code = 7
    http_status = 403
    default_hint = "ask an admin for a role that allows this action"


class DataQualityError(ModelyardError):
    """Data failed a quality gate; ``report`` holds the findings."""

    exit_code = 8
    http_status = 422
    default_hint = "inspect the report, fix the data, and try again"

    def __init__(self, message: str, *, report: Any = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["report"] = self.report
        return body


class PipelineError(ModelyardError):
    """A pipeline step failed; ``step`` names it and the cause is chained."""

    exit_code = 9
    http_status = 500
    default_hint = "see `modelyard pipelines logs RUN_ID` for the failing step"

    def __init__(self, message: str, *, step: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.step = step

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["step"] = self.step
        return body


class StorageError(ModelyardError):
    """A storage backend failed; ``retryable`` says whether trying again may help."""

    exit_code = 10
    http_status = 503
    default_hint = "check that the storage backend is reachable and writable"

    def __init__(self, message: str, *, retryable: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["retryable"] = self.retryable
        return body


class SchemaViolationError(InvalidInputError):
    """Data breaks its declared schema; ``violations`` lists every broken rule.

    Each violation is a dict: ``column``, ``rule``, ``count`` (offending rows) and ``examples``.
    """

    default_hint = "fix the listed values in the file (or the declared schema) and add it again"

    def __init__(
        self, message: str, *, violations: list[dict[str, Any]], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.violations = violations

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["violations"] = self.violations
        return body


class EntityNotFoundError(NotFoundError):
    """A feature group version has no online value for this entity key."""

    default_hint = "check the key, or run `modelyard features materialize GROUP` first"


class FilterSyntaxError(InvalidInputError):
    """A search filter does not parse; ``column`` (1-based) points at the offending spot."""

    default_hint = (
        "filters look like: metrics.auc > 0.7 and params.model = 'lgbm' "
        "order by metrics.auc desc limit 10"
    )

    def __init__(self, message: str, *, column: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.column = column

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["column"] = self.column
        return body


class BaselineNotFoundError(NotFoundError):
    """No monitoring baseline for this model (version)."""

    default_hint = (
        "create one with `modelyard monitor baseline --model NAME --version V --data FILE`"
    )


class ReportNotFoundError(NotFoundError):
    """No monitoring report with this id."""

    default_hint = "run `modelyard monitor reports --model NAME` to list reports"


class AlarmNotFoundError(NotFoundError):
    """No alarm of this name."""

    default_hint = "run `modelyard alarms list` to see the alarms"


class ArtifactNotFoundError(NotFoundError):
    """A run or model version has no artifact of this name."""

    default_hint = "list its artifacts with `modelyard runs show ID` or `modelyard models show`"


def describe_problems(problems: Iterable[Mapping[str, Any]], *, root: str = "<root>") -> str:
    """One line naming every problem of a validation (pydantic's ``errors()`` shape:
    ``loc`` and ``msg``), e.g. ``model.type: Input should be 'lightgbm' or 'logistic'``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in problem['loc']) or root}: {problem['msg']}"
        for problem in problems
    )
