"""The CLI end to end, as a user types it: init, --version, audit, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("modelyard ")


def test_init_is_idempotent_and_json(cli: Cli, workspace_env: dict[str, str]) -> None:
    first = cli("init", "--json")
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    assert info["home"] == workspace_env["MODELYARD_HOME"]
    assert info["user"] == "tester"
    second = json.loads(cli("init", "--json").stdout)
    assert second["created_at"] == info["created_at"]
    human = cli("init")
    assert "modelyard workspace" in human.stdout


def test_audit_list_and_verify(cli: Cli, workspace_env: dict[str, str]) -> None:
    cli("init")
    listed = json.loads(cli("audit", "list", "--json").stdout)
    actions = [e["action"] for e in listed["entries"]]
    assert actions[-1] == "workspace.init"
    assert {"seq", "time", "principal", "action", "resource", "outcome", "hash"} <= set(
        listed["entries"][0]
    )
    ok = cli("audit", "verify", "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["ok"] is True

    db = Path(workspace_env["MODELYARD_HOME"]) / "modelyard.db"
    with sqlite3.connect(db) as conn:
        body = json.loads(
            conn.execute(
                "SELECT body FROM records WHERE pk='audit#log' AND sk='000000000002'"
            ).fetchone()[0]
        )
        body["principal"] = "mallory"
        conn.execute(
            "UPDATE records SET body=? WHERE pk='audit#log' AND sk='000000000002'",
            (json.dumps(body),),
        )
    bad = cli("audit", "verify", "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert report["first_bad_seq"] == 2
    assert "TAMPERED at entry 2" in cli("audit", "verify").stdout


def test_commands_before_init_say_run_init(cli: Cli, workspace_env: dict[str, str]) -> None:
    result = cli("audit", "list")
    assert result.returncode == 3
    assert "error:" in result.stderr
    assert "hint:" in result.stderr
    assert "modelyard init" in result.stderr
    assert "Traceback" not in result.stderr
    assert not Path(workspace_env["MODELYARD_HOME"]).exists()


def test_json_errors_are_one_document(cli: Cli) -> None:
    result = cli("audit", "list", "--json")
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"] == "ConfigError"


def test_corrupt_database_file_is_reported_and_untouched(
    cli: Cli, workspace_env: dict[str, str]
) -> None:
    home = Path(workspace_env["MODELYARD_HOME"])
    home.mkdir()
    garbage = os.urandom(4096)
    (home / "modelyard.db").write_bytes(garbage)
    result = cli("init")
    assert result.returncode == 10
    assert "not a readable modelyard database" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    assert (home / "modelyard.db").read_bytes() == garbage


def test_unknown_uri_scheme(cli: Cli, workspace_env: dict[str, str]) -> None:
    env = dict(workspace_env, MODELYARD_RECORDS_URI="mongo://db/x")
    result = cli("init", env=env)
    assert result.returncode == 3
    assert "unknown records URI scheme 'mongo'" in result.stderr
    assert "sqlite://" in result.stderr


def test_usage_error_exit_2(cli: Cli) -> None:
    result = cli("audit", "list", "--limit", "zero")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_read_only_home_is_reported_and_nothing_changes(cli: Cli) -> None:
    base = Path(tempfile.mkdtemp(prefix="ro-"))
    try:
        os.chmod(base, 0o755)
        home = base / "ws"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELYARD_")}
        env.update(MODELYARD_HOME=str(home), MODELYARD_USER="tester")
        assert cli("init", env=env).returncode == 0
        before = (home / "modelyard.db").read_bytes()
        files = [home, *home.rglob("*")]
        for path in files:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
        if os.geteuid() == 0:
            # root ignores permission bits; the immutable attribute binds root too
            subprocess.run(["chattr", "+i", *map(str, files)], check=True)
        result = cli("init", env=env)
        assert result.returncode != 0
        assert "error:" in result.stderr
        assert "hint:" in result.stderr
        assert "Traceback" not in result.stderr
        assert (home / "modelyard.db").read_bytes() == before
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "-i", str(base)], check=False)
        for path in [base, *base.rglob("*")]:
            os.chmod(path, 0o755)
        shutil.rmtree(base, ignore_errors=True)
