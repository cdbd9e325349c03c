"""Settings, key validation, the URI registry, the error tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard import errors
from modelyard.errors import (
    BackendUnavailableError,
    ConfigError,
    InvalidInputError,
    ModelyardError,
    NotFoundError,
)
from modelyard.settings import Settings
from modelyard.storage.keys import validate_blob_key, validate_name
from modelyard.storage.localfs import LocalBlobStore
from modelyard.storage.memory import MemoryRecordStore
from modelyard.storage.sqlite import SqliteRecordStore
from modelyard.storage.uri import open_blob_store, open_record_store, register_record_scheme
from modelyard.workspace import open_workspace


def test_settings_defaults_env_and_file(tmp_path: Path) -> None:
    s = Settings.load({}, cwd=tmp_path)
    assert s.home == tmp_path / ".modelyard"
    assert s.records_uri == f"sqlite:///{tmp_path / '.modelyard' / 'modelyard.db'}"
    (tmp_path / "modelyard.toml").write_text('[modelyard]\nhome = "h"\nuser = "file-user"\n')
    s = Settings.load({}, cwd=tmp_path)
    assert s.home == tmp_path / "h"
    assert s.user == "file-user"
    s = Settings.load({"MODELYARD_HOME": "/x/y", "MODELYARD_USER": "env-user"}, cwd=tmp_path)
    assert s.home == Path("/x/y")
    assert s.user == "env-user"
    with pytest.raises(Exception, match="frozen"):
        s.home = Path("/z")  # type: ignore[misc]


def test_settings_bad_file_is_config_error(tmp_path: Path) -> None:
    (tmp_path / "modelyard.toml").write_text("home = [unclosed")
    with pytest.raises(ConfigError, match="cannot read config file"):
        Settings.load({}, cwd=tmp_path)
    (tmp_path / "modelyard.toml").write_text('colour = "blue"')
    with pytest.raises(ConfigError, match="unknown keys: colour") as info:
        Settings.load({}, cwd=tmp_path)
    assert "home" in info.value.hint
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load({"MODELYARD_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="approved_only"):
        Settings.load({"MODELYARD_APPROVED_ONLY": "perhaps"}, cwd=tmp_path / "elsewhere")


@pytest.mark.parametrize("name", ["adherence", "a", "A-1_b.c", "9lives"])
def test_valid_names(name: str) -> None:
    assert validate_name("model", name) == name


@pytest.mark.parametrize(
    "name", ["", "../x", "a/b", "a\\b", "a\x00", "a\nb", ".hidden", "-x", "a..b", "x" * 129, 5]
)
def test_invalid_names(name: object) -> None:
    with pytest.raises(InvalidInputError, match="model name") as info:
        validate_name("model", name)
    assert "letters, digits" in info.value.hint


@given(st.text(max_size=40))
def test_blob_keys_never_escape_the_root(key: str) -> None:
    try:
        validate_blob_key(key)
    except InvalidInputError:
        return
    root = Path("/srv/root")
    resolved = root.joinpath(*key.split("/")).resolve()
    assert resolved.is_relative_to(root)
    assert "\x00" not in key


def test_uri_registry(tmp_path: Path) -> None:
    assert isinstance(open_record_store("memory://"), MemoryRecordStore)
    store = open_record_store(f"sqlite:///{tmp_path}/x.db")
    assert isinstance(store, SqliteRecordStore)
    assert store.path == tmp_path / "x.db"
    blobs = open_blob_store(f"file://{tmp_path}/b")
    assert isinstance(blobs, LocalBlobStore)
    assert blobs.root == tmp_path / "b"
    with pytest.raises(ConfigError, match="unknown records URI scheme 'mongo'") as info:
        open_record_store("mongo://x")
    assert "sqlite://" in info.value.hint
    with pytest.raises(ConfigError, match="malformed"):
        open_blob_store("file://relative/path")


def test_missing_extra_names_it() -> None:
    register_record_scheme("fakedb", "modelyard_no_such_driver:Store.from_uri", extra="aws")
    with pytest.raises(BackendUnavailableError) as info:
        open_record_store("fakedb://x")
    assert "pip install 'modelyard[aws]'" in info.value.hint


def test_constructors_do_no_io(tmp_path: Path) -> None:
    ws = open_workspace(env={"MODELYARD_HOME": str(tmp_path / "never"), "MODELYARD_USER": "u"})
    assert ws.principal.name == "u"
    _ = ws.guard, ws.content, ws.audit
    assert not (tmp_path / "never").exists()
    with pytest.raises(ConfigError, match="does not exist") as info:
        ws.info()
    assert "modelyard init" in info.value.hint


def test_error_tree_shape() -> None:
    assert issubclass(errors.NotFoundError, LookupError)
    assert issubclass(errors.InvalidInputError, ValueError)
    assert issubclass(errors.RecordExistsError, errors.ConflictError)
    assert issubclass(errors.BackendUnavailableError, ConfigError)
    codes = {
        cls.exit_code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, ModelyardError)
    }
    assert 0 not in codes
    err = NotFoundError("thing 'x' not found")
    assert err.hint
    assert err.to_dict()["error"] == "NotFoundError"
    p = errors.PipelineError("boom", step="train")
    assert p.to_dict()["step"] == "train"
