"""SQLite online feature store (``sqlite:///path/online.db``): the embedded default.

One row per entity in a ``WITHOUT ROWID`` table keyed by (table, key), so a read is one
B-tree lookup. Each thread keeps one connection (opened on first use, WAL mode, busy
timeout) and reuses its prepared statements (sqlite3's statement cache), which is what keeps
a single-entity read in the tens of microseconds. Writes are one transaction with a
conditional upsert: an item replaces the stored one only if its (event time, ingestion
time) is not older.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from modelyard.errors import ConfigError, StorageError

__all__ = ["SqliteOnlineStore"]

_Item = tuple[str, int, int, str]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_features (
    tbl TEXT NOT NULL,
    k   TEXT NOT NULL,
    et  INTEGER NOT NULL,
    it  INTEGER NOT NULL,
    v   TEXT NOT NULL,
    PRIMARY KEY (tbl, k)
) WITHOUT ROWID
"""
_UPSERT = (
    "INSERT INTO online_features (tbl, k, et, it, v) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tbl, k) DO UPDATE SET et = excluded.et, it = excluded.it, v = excluded.v "
    "WHERE excluded.et > online_features.et "
    "OR (excluded.et = online_features.et AND excluded.it >= online_features.it)"
)
_GET_ONE = "SELECT v FROM online_features WHERE tbl = ? AND k = ?"
_CHUNK = 500  # keys per IN (...) query, well under SQLite's variable limit


class SqliteOnlineStore:
    """Latest feature values in one SQLite file."""

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_uri(cls, uri: str) -> SqliteOnlineStore:
        """``sqlite:///abs/path.db``."""
        parts = urlsplit(uri)
        path = unquote(parts.path)
        if not path or path == "/":
            raise ConfigError(
                f"online store URI {uri!r} has no database path",
                hint="use sqlite:///absolute/path/online.db",
            )
        return cls(path)

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.timeout_s,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=512,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            # reads are random point lookups: keep the hot pages mapped instead of copying
            conn.execute("PRAGMA mmap_size=268435456")
            conn.execute("PRAGMA cache_size=-65536")
            if not self._ready:
                with self._lock:
                    conn.execute(_SCHEMA)
                    self._ready = True
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(
                f"cannot open the online store {str(self.path)!r}: {exc}",
                retryable=isinstance(exc, sqlite3.OperationalError),
            ) from exc
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StorageError(
                f"online store {what} failed on {str(self.path)!r}: {exc}",
                retryable=isinstance(exc, sqlite3.OperationalError),
            ) from exc

    # -- port --------------------------------------------------------------------------------
    def put_many(self, group: str, version: int, items: Iterable[_Item]) -> int:
        tbl = f"{group}/v{version}"
        conn = self._conn()
        count = 0

        def rows() -> Iterator[tuple[str, str, int, int, str]]:
            nonlocal count
            for k, et, it, v in items:
                count += 1
                yield (tbl, k, et, it, v)

        with self._errors("write"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_UPSERT, rows())
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return count

    def get_many(self, group: str, version: int, keys: Sequence[str]) -> list[str | None]:
        tbl = f"{group}/v{version}"
        conn = self._conn()
        with self._errors("read"):
            if len(keys) == 1:
                row = conn.execute(_GET_ONE, (tbl, keys[0])).fetchone()
                return [None if row is None else row[0]]
            found: dict[str, str] = {}
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                # only "?" placeholders are formatted in: no value reaches the SQL text
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT k, v FROM online_features WHERE tbl = ? AND k IN ({marks})"  # noqa: S608
                found.update(conn.execute(sql, (tbl, *chunk)).fetchall())
        return [found.get(k) for k in keys]

    def get_items(self, group: str, version: int, keys: Sequence[str]) -> list[_Item | None]:
        tbl = f"{group}/v{version}"
        conn = self._conn()
        out: list[_Item | None] = []
        with self._errors("read"):
            for key in keys:
                row = conn.execute(
                    "SELECT k, et, it, v FROM online_features WHERE tbl = ? AND k = ?", (tbl, key)
                ).fetchone()
                out.append(None if row is None else (row[0], row[1], row[2], row[3]))
        return out

    def count(self, group: str, version: int) -> int:
        with self._errors("count"):
            row = (
                self._conn()
                .execute(
                    "SELECT COUNT(*) FROM online_features WHERE tbl = ?", (f"{group}/v{version}",)
                )
                .fetchone()
            )
        return int(row[0])

    def drop(self, group: str, version: int) -> None:
        with self._errors("drop"):
            self._conn().execute(
                "DELETE FROM online_features WHERE tbl = ?", (f"{group}/v{version}",)
            )

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
