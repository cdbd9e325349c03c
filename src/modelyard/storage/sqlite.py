"""SQLite RecordStore: the embedded default (``sqlite:////abs/path/modelyard.db``).

One table ``records(pk, sk, body)`` WITHOUT ROWID, so a partition's items sit together in sort-key
order. WAL journal, ``synchronous=NORMAL``: a committed write survives the process being
killed (SIGKILL) at any point; after a power loss the last few commits may be rolled back, but
the file is never corrupt. Conditional writes and transactions run under ``BEGIN IMMEDIATE``, so
concurrent processes serialise on the write lock (waiting up to ``busy_timeout_s``) instead of
failing. Connections are per thread and per process (a forked child opens its own).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from modelyard.errors import (
    ConfigError,
    InvalidInputError,
    RecordExistsError,
    RecordNotFoundError,
    StorageError,
)
from modelyard.storage.keys import validate_record_key
from modelyard.storage.records import (
    Delete,
    Put,
    Record,
    Write,
    check_condition,
    check_record,
    decode_attributes,
    encode_attributes,
    plan_writes,
    upper_bound,
)

__all__ = ["SqliteRecordStore"]

_SCHEMA_VERSION = 1
_PAGE = 1000
_DDL = (
    "CREATE TABLE IF NOT EXISTS records ("
    " pk TEXT NOT NULL, sk TEXT NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY (pk, sk)) WITHOUT ROWID"
)


class SqliteRecordStore:
    """Records in one SQLite file.

    Args:
        path: the database file; its folder must exist (``modelyard init`` creates it).
        busy_timeout_s: how long a writer waits for another process's write lock.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._setup_lock = threading.Lock()

    @classmethod
    def from_uri(cls, uri: str) -> SqliteRecordStore:
        """``sqlite:////abs/path.db`` (or ``sqlite:///abs/path.db``)."""
        parts = urlsplit(uri)
        path = unquote(parts.path)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if parts.netloc or not path or path == "/":
            raise ConfigError(
                f"malformed SQLite URI {uri!r}",
                hint="use sqlite:////absolute/path/to/modelyard.db",
            )
        return cls(Path(path))

    # -- connections ------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = self._connect()
        self._local.conn = conn
        self._local.pid = os.getpid()
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        folder = self.path.parent
        if not folder.is_dir():
            raise ConfigError(
                f"the database folder {str(folder)!r} does not exist",
                hint="run `modelyard init` to create the workspace, or set MODELYARD_HOME",
            )
        if self.path.is_dir():
            raise ConfigError(f"the database path {str(self.path)!r} is a folder, not a file")
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            with self._setup_lock:
                self._set_up(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._translate(exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """Journal mode and schema, retried while another connection holds the lock.

        Changing the journal mode (on a new file) needs the database to itself, and SQLite
        answers "database is locked" at once instead of waiting with the busy handler, so
        connections opened together (threads or processes) retry here, within the timeout.
        """
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.005
        while True:
            try:
                self._set_up_once(conn)
                return
            except sqlite3.OperationalError as exc:
                text = str(exc)
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _set_up_once(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise ConfigError(
                f"{str(self.path)!r} was written by a newer modelyard "
                f"(schema {version}, this one knows {_SCHEMA_VERSION})",
                hint="upgrade modelyard",
            )
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if version < _SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_DDL)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _translate(self, exc: sqlite3.Error) -> Exception:
        text = str(exc)
        where = str(self.path)
        if isinstance(exc, sqlite3.DatabaseError) and (
            "not a database" in text or "malformed" in text or "file is encrypted" in text
        ):
            return StorageError(
                f"{where!r} is not a readable modelyard database ({text})",
                hint="move the file away (it was left untouched) or point "
                "MODELYARD_RECORDS_URI at another file",
            )
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return StorageError(
                f"cannot write the database {where!r} ({text})",
                hint="make the workspace folder writable or choose another with MODELYARD_HOME",
            )
        if "locked" in text or "busy" in text:
            return StorageError(
                f"the database {where!r} stayed locked by another process ({text})",
                retryable=True,
                hint="retry; if it persists, look for a stuck modelyard process",
            )
        return StorageError(f"SQLite error on {where!r}: {text}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    # -- port -------------------------------------------------------------------------------
    def put(
        self, item: Record, *, if_absent: bool = False, expect: Mapping[str, Any] | None = None
    ) -> None:
        if expect is not None:
            self.transact([Put(item, expect=expect)])
            return
        pk, sk = check_record(item)
        body = encode_attributes(item)
        conn = self._conn()
        if if_absent:
            try:
                with self._errors():
                    conn.execute("INSERT INTO records VALUES (?, ?, ?)", (pk, sk, body))
            except StorageError as exc:
                if isinstance(exc.__cause__, sqlite3.IntegrityError):
                    raise RecordExistsError(
                        f"a record already exists at pk={pk!r}, sk={sk!r}"
                    ) from None
                raise
            return
        with self._errors():
            conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (pk, sk, body))

    def put_many(self, items: Sequence[Record]) -> None:
        rows = [(*check_record(item), encode_attributes(item)) for item in items]
        conn = self._conn()
        with self._errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def get(self, pk: str, sk: str) -> Record:
        found = self.find(pk, sk)
        if found is None:
            raise RecordNotFoundError(f"no record at pk={pk!r}, sk={sk!r}")
        return found

    def find(self, pk: str, sk: str) -> Record | None:
        validate_record_key("pk", pk)
        validate_record_key("sk", sk)
        with self._errors():
            row = (
                self._conn()
                .execute("SELECT body FROM records WHERE pk = ? AND sk = ?", (pk, sk))
                .fetchone()
            )
        return None if row is None else decode_attributes(pk, sk, row[0])

    def delete(self, pk: str, sk: str) -> None:
        validate_record_key("pk", pk)
        validate_record_key("sk", sk)
        with self._errors():
            self._conn().execute("DELETE FROM records WHERE pk = ? AND sk = ?", (pk, sk))

    def query(
        self, pk: str, *, prefix: str = "", reverse: bool = False, limit: int | None = None
    ) -> Iterator[Record]:
        validate_record_key("pk", pk)
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must be >= 0, got {limit}")
        if not isinstance(prefix, str):
            raise InvalidInputError(f"prefix must be a string, got {type(prefix).__name__}")
        return self._pages(pk, prefix, reverse, limit)

    def _pages(self, pk: str, prefix: str, reverse: bool, limit: int | None) -> Iterator[Record]:
        # Keyset pagination: no read transaction stays open while the caller iterates.
        low: str = prefix
        high: str | None = upper_bound(prefix)
        low_inclusive = True
        high_inclusive = False
        remaining = limit
        while remaining is None or remaining > 0:
            page = _PAGE if remaining is None else min(_PAGE, remaining)
            clauses = ["pk = ?", "sk >= ?" if low_inclusive else "sk > ?"]
            params: list[Any] = [pk, low]
            if high is not None:
                clauses.append("sk <= ?" if high_inclusive else "sk < ?")
                params.append(high)
            order = "DESC" if reverse else "ASC"
            sql = (
                f"SELECT sk, body FROM records WHERE {' AND '.join(clauses)} "  # noqa: S608
                f"ORDER BY sk {order} LIMIT {page}"
            )
            with self._errors():
                rows = self._conn().execute(sql, params).fetchall()
            for sk, body in rows:
                yield decode_attributes(pk, sk, body)
            if len(rows) < page:
                return
            if remaining is not None:
                remaining -= len(rows)
            last = rows[-1][0]
            if reverse:
                high, high_inclusive = last, False
            else:
                low, low_inclusive = last, False

    def transact(self, writes: Sequence[Write]) -> None:
        plan = plan_writes(writes)
        conn = self._conn()

        def current(pk: str, sk: str) -> Record | None:
            row = conn.execute(
                "SELECT body FROM records WHERE pk = ? AND sk = ?", (pk, sk)
            ).fetchone()
            return None if row is None else decode_attributes(pk, sk, row[0])

        with self._errors():
            conn.execute("BEGIN IMMEDIATE")
            try:
                for write in writes:
                    check_condition(write, current)
                for write, body in plan:
                    if isinstance(write, Put):
                        conn.execute(
                            "INSERT OR REPLACE INTO records VALUES (?, ?, ?)",
                            (write.item["pk"], write.item["sk"], body),
                        )
                    elif isinstance(write, Delete):
                        conn.execute(
                            "DELETE FROM records WHERE pk = ? AND sk = ?", (write.pk, write.sk)
                        )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                continue
        self._local = threading.local()
