"""Frozen settings, read once by the composition root.

Sources, later wins: built-in defaults < ``modelyard.toml`` (``MODELYARD_CONFIG``, else
``./modelyard.toml``; keys as below, top level or under ``[modelyard]``) < ``MODELYARD_*``
environment variables. Nothing here runs at import time: ``Settings.load()`` reads.

| setting       | env                    | default                               |
|---------------|------------------------|---------------------------------------|
| home          | MODELYARD_HOME         | ./.modelyard                          |
| records_uri   | MODELYARD_RECORDS_URI  | sqlite:///<home>/modelyard.db         |
| blobs_uri     | MODELYARD_BLOBS_URI    | file://<home>/blobs                   |
| user          | MODELYARD_USER         | the OS user                           |
| approved_only | MODELYARD_APPROVED_ONLY| false (production training on approved datasets only) |
| online_uri    | MODELYARD_ONLINE_URI   | sqlite:///<home>/online.db (online feature store) |
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from modelyard.errors import ConfigError, describe_problems

__all__ = ["Settings"]

_KEYS = ("home", "records_uri", "blobs_uri", "user", "approved_only", "online_uri")


class Settings(BaseModel):
    """Where the workspace lives and which backends it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path
    records_uri: str
    blobs_uri: str
    user: str | None = None
    approved_only: bool = False
    online_uri: str = ""

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings from defaults, the config file, the environment and ``overrides``.

        Raises:
            ConfigError: unreadable or invalid config file, or an invalid value.
        """
        env = os.environ if env is None else env
        cwd = Path.cwd() if cwd is None else cwd
        values: dict[str, Any] = {}
        values.update(_read_config_file(env, cwd))
        for key in _KEYS:
            env_value = env.get(f"MODELYARD_{key.upper()}")
            if env_value not in (None, ""):
                values[key] = env_value
        values.update({k: v for k, v in overrides.items() if v is not None})
        home = Path(values.get("home", ".modelyard")).expanduser()
        if not home.is_absolute():
            home = cwd / home
        values["home"] = home
        values.setdefault("records_uri", f"sqlite:///{home / 'modelyard.db'}")
        values.setdefault("blobs_uri", f"file://{home / 'blobs'}")
        values.setdefault("online_uri", f"sqlite:///{home / 'online.db'}")
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {describe_problems(exc.errors())}") from exc


def _read_config_file(env: Mapping[str, str], cwd: Path) -> dict[str, Any]:
    explicit = env.get("MODELYARD_CONFIG")
    path = Path(explicit) if explicit else cwd / "modelyard.toml"
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"MODELYARD_CONFIG points at {str(path)!r}, which does not exist",
                hint="fix the path or unset MODELYARD_CONFIG",
            )
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file {str(path)!r}: {exc}",
            hint="fix the TOML syntax or remove the file",
        ) from exc
    section = data.get("modelyard", data)
    if not isinstance(section, dict):
        raise ConfigError(f"config file {str(path)!r}: [modelyard] must be a table")
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"config file {str(path)!r} has unknown keys: {', '.join(unknown)}",
            hint=f"valid keys: {', '.join(_KEYS)}",
        )
    return dict(section)
