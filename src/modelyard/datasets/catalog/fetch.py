"""Downloads with a cache: HTTPS (httpx, streaming), anonymous S3 (boto3, unsigned), file://.

The cache is keyed by source address and validator: a record ``("catalog#cache", URL)`` holds
the ETag / Last-Modified (or, for files, size and modification time) and the sha256 of the
bytes, which live in the ContentStore. A repeated fetch of an unchanged source transfers no
data: if the expected sha256 is known and cached, no request is made at all; otherwise one
conditional request (HTTP ``If-None-Match``/``If-Modified-Since`` -> 304, S3 ``HeadObject``
ETag) decides.

Transient failures (connection drops, 429/5xx, short bodies) are retried with exponential
backoff; an interrupted download resumes with ``Range`` when the server supports it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from modelyard.errors import (
    BackendUnavailableError,
    ChecksumMismatchError,
    InvalidInputError,
    ModelyardError,
    NotFoundError,
    StorageError,
)
from modelyard.storage.blobs import BlobRef, ContentStore, sha256_file
from modelyard.storage.records import RecordStore

__all__ = ["Fetched", "Fetcher", "Progress"]

Progress = Callable[[int, int | None], None]
_CACHE_PK = "catalog#cache"
_CHUNK = 1 << 16
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Fetched:
    """A fetched file, where it came from, and whether anything was transferred."""

    path: Path
    url: str
    sha256: str
    size_bytes: int
    downloaded: bool
    bytes_transferred: int
    validator: dict[str, Any]
    retrieved_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "downloaded": self.downloaded,
            "bytes_transferred": self.bytes_transferred,
            "validator": self.validator,
            "retrieved_at": self.retrieved_at.isoformat(),
        }


class _Transient(Exception):
    """A failure worth retrying."""


class _NotModified(Exception):
    """The source still matches the cached validator."""


class Fetcher:
    """Fetches URLs into a scratch folder through the download cache.

    Args:
        records: where cache records live.
        content: where cached bytes live (sha256-addressed).
        retries: attempts after the first on transient failures.
        backoff_s: first retry delay (doubles each time).
        timeout_s: per-request network timeout.
        s3_endpoint_url: an S3-compatible endpoint (tests: a moto server on 127.0.0.1).
        s3_client: a ready boto3 S3 client (overrides the endpoint; tests count calls on it).
    """

    def __init__(
        self,
        records: RecordStore,
        content: ContentStore,
        *,
        retries: int = 3,
        backoff_s: float = 0.25,
        timeout_s: float = 30.0,
        s3_endpoint_url: str | None = None,
        s3_client: Any = None,
    ) -> None:
        self._records = records
        self._content = content
        self._retries = retries
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._s3_endpoint_url = s3_endpoint_url
        self._s3_client = s3_client

    def fetch(
        self,
        url: str,
        scratch: Path,
        *,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        region: str | None = None,
        progress: Progress | None = None,
    ) -> Fetched:
        """Bring ``url`` into ``scratch`` (from the cache if unchanged), verified.

        Raises:
            InvalidInputError: an unsupported address, or a size that differs from the
                expected one (a truncated download); nothing is cached.
            ChecksumMismatchError: the bytes do not hash to ``expected_sha256``; nothing cached.
            NotFoundError: the source does not exist (404, no such key or file).
            StorageError: the source stayed unreachable after the retries.
        """
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https", "s3", "file"):
            raise InvalidInputError(
                f"cannot import from {url!r}: unsupported address scheme {scheme or '(none)'!r}",
                hint="use an https://, s3://bucket/key or file:// address",
            )
        cached = self._records.find(_CACHE_PK, url)
        target = scratch / "download"
        if (
            cached is not None
            and expected_sha256 is not None
            and cached["sha256"] == expected_sha256
            and self._restore(cached, target)
        ):
            return self._result(target, url, cached, downloaded=False, transferred=0)
        try:
            if scheme in ("http", "https"):
                validator, transferred = self._http(url, target, cached, progress)
            elif scheme == "s3":
                validator, transferred = self._s3(url, target, cached, region, progress)
            else:
                validator, transferred = self._file(url, target, cached, progress)
        except _NotModified:
            assert cached is not None
            if self._restore(cached, target):
                return self._result(target, url, cached, downloaded=False, transferred=0)
            # the cached bytes vanished: fetch unconditionally
            self._records.delete(_CACHE_PK, url)
            return self.fetch(
                url,
                scratch,
                expected_sha256=expected_sha256,
                expected_size=expected_size,
                region=region,
                progress=progress,
            )
        sha256, size = sha256_file(target)
        if expected_size is not None and size != expected_size:
            raise InvalidInputError(
                f"download of {url!r} has {size} bytes, expected {expected_size}: "
                "it is truncated or not the expected file",
                hint="try again later; if it persists, the catalog entry or the source changed",
            )
        if expected_sha256 is not None and sha256 != expected_sha256:
            raise ChecksumMismatchError(
                f"download of {url!r} has sha256 {sha256}, expected {expected_sha256}",
                hint="the file is corrupt or changed at the source; try again, or update the "
                "catalog entry if the source legitimately changed",
            )
        ref = self._content.put_file(target)
        record = {
            "pk": _CACHE_PK,
            "sk": url,
            "sha256": ref.sha256,
            "size_bytes": ref.size_bytes,
            "validator": validator,
            "retrieved_at": datetime.now(UTC).isoformat(),
        }
        self._records.put(record)
        return self._result(target, url, record, downloaded=True, transferred=transferred)

    # -- cache -------------------------------------------------------------------------------
    def _restore(self, cached: dict[str, Any], target: Path) -> bool:
        ref = BlobRef(cached["sha256"], int(cached["size_bytes"]))
        if not self._content.exists(ref):
            return False
        target.write_bytes(self._content.get(ref))
        return True

    def _result(
        self, path: Path, url: str, record: dict[str, Any], *, downloaded: bool, transferred: int
    ) -> Fetched:
        return Fetched(
            path=path,
            url=url,
            sha256=record["sha256"],
            size_bytes=int(record["size_bytes"]),
            downloaded=downloaded,
            bytes_transferred=transferred,
            validator=dict(record.get("validator") or {}),
            retrieved_at=datetime.fromisoformat(record["retrieved_at"]),
        )

    def _retrying(self, what: str, attempt_fn: Callable[[int], Any]) -> Any:
        last: Exception | None = None
        for attempt in range(self._retries + 1):
            try:
                return attempt_fn(attempt)
            except _Transient as exc:
                last = exc
                if attempt < self._retries:
                    time.sleep(self._backoff_s * (2**attempt))
        raise StorageError(
            f"{what} failed after {self._retries + 1} attempts: {last}",
            retryable=True,
            hint="check the network and the address, then import again (the download resumes)",
        )

    # -- http --------------------------------------------------------------------------------
    def _http(
        self,
        url: str,
        target: Path,
        cached: dict[str, Any] | None,
        progress: Progress | None,
    ) -> tuple[dict[str, Any], int]:
        conditional: dict[str, str] = {}
        old = (cached or {}).get("validator") or {}
        if old.get("etag"):
            conditional["If-None-Match"] = old["etag"]
        if old.get("last_modified"):
            conditional["If-Modified-Since"] = old["last_modified"]
        state: dict[str, Any] = {"received": 0, "transferred": 0, "validator": {}}
        target.write_bytes(b"")

        def attempt(_: int) -> None:
            received = state["received"]
            headers = {"Accept-Encoding": "identity"}
            if received:
                headers["Range"] = f"bytes={received}-"
                if state["validator"].get("etag"):
                    headers["If-Range"] = state["validator"]["etag"]
            else:
                headers.update(conditional)
            try:
                with (
                    httpx.Client(follow_redirects=True, timeout=self._timeout_s) as client,
                    client.stream("GET", url, headers=headers) as response,
                ):
                    status = response.status_code
                    if status == 304 and not received:
                        raise _NotModified()
                    if status in _RETRY_STATUS:
                        raise _Transient(f"HTTP {status}")
                    if status == 404:
                        raise NotFoundError(
                            f"{url!r} does not exist (HTTP 404)",
                            hint="check the address in the catalog entry",
                        )
                    if status >= 400:
                        raise InvalidInputError(
                            f"cannot download {url!r}: HTTP {status}",
                            hint="check the address and whether it needs credentials",
                        )
                    mode = "ab"
                    if status != 206:  # a fresh, whole body (the server ignored Range)
                        received = 0
                        mode = "wb"
                        state["validator"] = {
                            "etag": response.headers.get("etag"),
                            "last_modified": response.headers.get("last-modified"),
                        }
                    length = response.headers.get("content-length")
                    total = received + int(length) if length is not None else None
                    with target.open(mode) as fh:
                        for chunk in response.iter_raw(_CHUNK):
                            fh.write(chunk)
                            received += len(chunk)
                            state["transferred"] += len(chunk)
                            if progress is not None:
                                progress(received, total)
                    state["received"] = received
                    if total is not None and received < total:
                        raise _Transient(f"short body: {received} of {total} bytes")
            except httpx.TransportError as exc:
                # keep what arrived; the next attempt asks for the rest with Range
                state["received"] = target.stat().st_size
                raise _Transient(f"{type(exc).__name__}: {exc}") from exc

        self._retrying(f"download of {url!r}", attempt)
        return state["validator"], int(state["transferred"])

    # -- s3 ----------------------------------------------------------------------------------
    def _client(self, region: str | None) -> Any:
        if self._s3_client is not None:
            return self._s3_client
        try:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config
        except ImportError as exc:
            raise BackendUnavailableError(
                "importing from S3 needs boto3, which is not installed",
                hint="pip install 'modelyard[aws]'",
            ) from exc
        return boto3.client(
            "s3",
            region_name=region or "us-east-1",
            endpoint_url=self._s3_endpoint_url,
            config=Config(
                signature_version=UNSIGNED,
                retries={"max_attempts": 1},  # retries are ours (resume with Range)
                connect_timeout=self._timeout_s,
                read_timeout=self._timeout_s,
            ),
        )

    def _s3(
        self,
        url: str,
        target: Path,
        cached: dict[str, Any] | None,
        region: str | None,
        progress: Progress | None,
    ) -> tuple[dict[str, Any], int]:
        from botocore.exceptions import BotoCoreError, ClientError

        parts = urlsplit(url)
        bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
        if not bucket or not key:
            raise InvalidInputError(f"S3 address {url!r} needs a bucket and a key: s3://BUCKET/KEY")
        client = self._client(region)

        def not_found(exc: ClientError) -> ModelyardError | None:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
                return NotFoundError(f"{url!r} does not exist ({code})")
            if code in ("403", "AccessDenied", "Forbidden", "AllAccessDisabled"):
                return InvalidInputError(
                    f"{url!r} is not public: anonymous (unsigned) access was denied ({code})",
                    hint="catalog imports read open data anonymously; download it with your "
                    "own credentials and use `modelyard datasets add`",
                )
            return None

        def head(_: int) -> dict[str, Any]:
            try:
                info: dict[str, Any] = client.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                missing = not_found(exc)
                if missing is not None:
                    raise missing from exc
                raise _Transient(str(exc)) from exc
            except BotoCoreError as exc:
                raise _Transient(str(exc)) from exc
            return info

        info = self._retrying(f"HEAD of {url!r}", head)
        etag = str(info.get("ETag", ""))
        total = int(info.get("ContentLength", 0))
        old = (cached or {}).get("validator") or {}
        if old.get("etag") and old.get("etag") == etag:
            raise _NotModified()
        state = {"received": 0, "transferred": 0}
        target.write_bytes(b"")

        def attempt(_: int) -> None:
            received = state["received"]
            kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "IfMatch": etag}
            if received:
                kwargs["Range"] = f"bytes={received}-"
            try:
                body = client.get_object(**kwargs)["Body"]
                with target.open("ab") as fh:
                    for chunk in body.iter_chunks(_CHUNK):
                        fh.write(chunk)
                        received += len(chunk)
                        state["transferred"] += len(chunk)
                        if progress is not None:
                            progress(received, total)
            except ClientError as exc:
                missing = not_found(exc)
                if missing is not None:
                    raise missing from exc
                state["received"] = target.stat().st_size
                raise _Transient(str(exc)) from exc
            except BotoCoreError as exc:
                state["received"] = target.stat().st_size
                raise _Transient(str(exc)) from exc
            state["received"] = received
            if received < total:
                raise _Transient(f"short body: {received} of {total} bytes")

        self._retrying(f"download of {url!r}", attempt)
        last_modified = info.get("LastModified")
        return (
            {"etag": etag, "last_modified": str(last_modified) if last_modified else None},
            state["transferred"],
        )

    # -- file --------------------------------------------------------------------------------
    def _file(
        self,
        url: str,
        target: Path,
        cached: dict[str, Any] | None,
        progress: Progress | None,
    ) -> tuple[dict[str, Any], int]:
        source = Path(unquote(urlsplit(url).path))
        if not source.is_file():
            raise NotFoundError(
                f"{url!r} does not exist", hint="check the path in the file:// address"
            )
        stat = source.stat()
        validator = {"size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        if cached is not None and (cached.get("validator") or {}) == validator:
            raise _NotModified()
        with source.open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        if progress is not None:
            progress(stat.st_size, stat.st_size)
        return validator, stat.st_size
