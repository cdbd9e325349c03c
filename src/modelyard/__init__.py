"""modelyard: one coherent MLOps platform, from raw data to a monitored model.

The public SDK::

    import modelyard
    ws = modelyard.open_workspace(create=True)
"""

from importlib.metadata import PackageNotFoundError, version

from modelyard.errors import (
    AlreadyExistsError,
    ConfigError,
    ConflictError,
    DataQualityError,
    InvalidInputError,
    ModelyardError,
    NotFoundError,
    PermissionDeniedError,
    PipelineError,
    StorageError,
)
from modelyard.settings import Settings
from modelyard.workspace import Workspace, open_workspace

try:
    __version__ = version("modelyard")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"

__all__ = [
    "AlreadyExistsError",
    "ConfigError",
    "ConflictError",
    "DataQualityError",
    "InvalidInputError",
    "ModelyardError",
    "NotFoundError",
    "PermissionDeniedError",
    "PipelineError",
    "Settings",
    "StorageError",
    "Workspace",
    "__version__",
    "open_workspace",
]
