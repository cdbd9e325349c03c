"""Catalog imports over HTTP from a real server on 127.0.0.1: cache, resume, bad downloads."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelyard.datasets.catalog import CatalogService, Fetcher
from modelyard.errors import ChecksumMismatchError, NotFoundError, StorageError
from modelyard.settings import Settings
from modelyard.workspace import Workspace, open_workspace

BODY = b"id,kind,value\n" + b"".join(f"{i},{'ab'[i % 2]},{i * 0.5}\n".encode() for i in range(2000))
SHA = hashlib.sha256(BODY).hexdigest()
ETAG = f'"{SHA[:16]}"'


class _Server:
    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.bodies_sent: Counter[str] = Counter()
        self.flaky_left = 0


def _handler(state: _Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path
            state.requests[path] += 1
            body = BODY
            if path == "/missing.csv":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path == "/corrupt.csv":
                body = BODY.replace(b"a,", b"b,", 1)
            if path.startswith("/data.csv") and self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.end_headers()
                return
            start = 0
            rng = self.headers.get("Range")
            if rng and path in ("/flaky.csv", "/data.csv"):
                start = int(rng.split("=")[1].rstrip("-"))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("ETag", ETAG)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            part = body[start:]
            if path == "/truncated.csv" or (path == "/flaky.csv" and state.flaky_left > 0):
                state.flaky_left -= 1
                part = part[: len(part) // 2]  # the connection drops halfway
                self.wfile.write(part)
                self.wfile.flush()
                self.close_connection = True
                return
            state.bodies_sent[path] += 1
            self.wfile.write(part)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, _Server]]:
    state = _Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()
    httpd.server_close()


def _entry(folder: Path, entry_id: str, url: str, *, sha: str | None, size: int | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"Name: Test data {entry_id}",
        "Description: Synthetic rows served by a local server.",
        "License: CC0-1.0",
        "Citation: Test, 2026.",
        "Resources:",
        "  - Description: the file",
        f"    ARN: {url}",
        '    Region: ""',
        "    Type: HTTPS",
        "Modelyard:",
        "  Size: 20 KB",
        "  Schema: {id: int, kind: str, value: float}",
        "  Files:",
        f"    - Url: {url}",
    ]
    if sha:
        lines.append(f"      Sha256: {sha}")
    if size:
        lines.append(f"      SizeBytes: {size}")
    (folder / f"{entry_id}.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings.load(
        {}, home=tmp_path / "ws", records_uri="memory://", blobs_uri="memory://"
    )
    workspace = open_workspace(settings, env={"MODELYARD_USER": "importer"}, create=True)
    yield workspace
    workspace.close()


def _catalog(ws: Workspace, folder: Path) -> CatalogService:
    fetcher = Fetcher(ws.records, ws.content, retries=2, backoff_s=0.01, timeout_s=5)
    return CatalogService(ws.datasets, fetcher, ws.guard, extra_dirs=[folder])


def test_second_import_of_unchanged_source_downloads_nothing(
    ws: Workspace, tmp_path: Path, server: tuple[str, _Server]
) -> None:
    base, state = server
    folder = tmp_path / "entries"
    _entry(folder, "with-sha", f"{base}/data.csv", sha=SHA, size=len(BODY))
    _entry(folder, "etag-only", f"{base}/data.csv?v=etag", sha=None, size=None)
    catalog = _catalog(ws, folder)
    progress: list[tuple[int, int | None]] = []
    first = catalog.import_("with-sha", progress=lambda d, t: progress.append((d, t)))
    assert first.downloaded
    assert first.created
    assert first.version.rows == 2000
    assert progress[-1] == (len(BODY), len(BODY))
    assert state.requests["/data.csv"] == 1
    again = catalog.import_("with-sha")
    assert not again.downloaded
    assert not again.created
    assert again.bytes_transferred == 0
    assert state.requests["/data.csv"] == 1  # known sha256 in the cache: no request at all
    attribution = again.version.attribution
    assert attribution is not None
    assert attribution["sha256"] == SHA
    assert attribution["license"] == "CC0-1.0"
    assert attribution["citation"] == "Test, 2026."

    # without a checksum in the entry, a conditional GET (ETag -> 304) decides
    catalog.import_("etag-only", name="etag-copy")
    catalog.import_("etag-only", name="etag-copy")
    assert state.requests["/data.csv?v=etag"] == 2
    assert state.bodies_sent["/data.csv?v=etag"] == 1


def test_interrupted_download_resumes_with_range(
    ws: Workspace, tmp_path: Path, server: tuple[str, _Server]
) -> None:
    base, state = server
    state.flaky_left = 1
    _entry(tmp_path / "e", "flaky", f"{base}/flaky.csv", sha=SHA, size=len(BODY))
    result = _catalog(ws, tmp_path / "e").import_("flaky")
    assert result.downloaded
    assert result.version.rows == 2000
    assert state.requests["/flaky.csv"] == 2
    assert result.bytes_transferred == len(BODY)  # the second request fetched only the rest


def test_truncated_and_corrupt_downloads_are_rejected(
    ws: Workspace, tmp_path: Path, server: tuple[str, _Server]
) -> None:
    base, _ = server
    folder = tmp_path / "e"
    _entry(folder, "truncated", f"{base}/truncated.csv", sha=SHA, size=len(BODY))
    _entry(folder, "corrupt", f"{base}/corrupt.csv", sha=SHA, size=len(BODY))
    _entry(folder, "gone", f"{base}/missing.csv", sha=None, size=None)
    catalog = _catalog(ws, folder)
    with pytest.raises(StorageError, match="failed after 3 attempts"):
        catalog.import_("truncated")
    with pytest.raises(ChecksumMismatchError, match="expected"):
        catalog.import_("corrupt")
    with pytest.raises(NotFoundError, match="404"):
        catalog.import_("gone")
    assert ws.datasets.list_datasets() == []
    assert list(ws.records.query("catalog#cache")) == []
