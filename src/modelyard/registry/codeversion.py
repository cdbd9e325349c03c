"""The code version of a registration: the git commit of the working folder, if any.

Reads ``.git/HEAD`` (and the ref it names, loose or packed) directly, which takes
microseconds; falls back to ``git rev-parse HEAD`` for layouts it does not know (worktrees,
submodules). Outside a repository, or in one without commits, the result is None.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

__all__ = ["detect_code_version"]

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _find_git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.exists():
            return candidate
    return None


def _from_files(git_dir: Path) -> str | None:
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if _SHA.match(head):
        return head
    if not head.startswith("ref: "):
        raise ValueError("unexpected HEAD")
    ref = head[5:].strip()
    loose = git_dir / ref
    if loose.is_file():
        sha = loose.read_text(encoding="utf-8").strip()
        if _SHA.match(sha):
            return sha
        raise ValueError("unexpected ref file")
    packed = git_dir / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
                return parts[0]
    return None  # a branch with no commits yet


def _from_git(cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and _SHA.match(sha) else None


def detect_code_version(cwd: Path | None = None) -> str | None:
    """The commit checked out in ``cwd`` (default: the current folder), or None."""
    start = (cwd or Path.cwd()).resolve()
    git_dir = _find_git_dir(start)
    if git_dir is None:
        return None
    if git_dir.is_dir():
        try:
            return _from_files(git_dir)
        except (OSError, ValueError, UnicodeDecodeError):
            pass
    return _from_git(start)
