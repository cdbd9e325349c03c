"""Catalog imports from anonymous S3 (unsigned boto3) on a moto server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from moto.server import ThreadedMotoServer

from modelyard.datasets.catalog import CatalogService, Fetcher
from modelyard.errors import ChecksumMismatchError, InvalidInputError, NotFoundError
from modelyard.settings import Settings
from modelyard.workspace import open_workspace

BODY = b"station,temp\n" + b"".join(f"s{i % 7},{i % 40 - 5}\n".encode() for i in range(3000))
SHA = hashlib.sha256(BODY).hexdigest()


@pytest.fixture
def s3() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    admin = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    admin.create_bucket(Bucket="open-data")
    admin.put_bucket_policy(
        Bucket="open-data",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": ["arn:aws:s3:::open-data", "arn:aws:s3:::open-data/*"],
                    }
                ],
            }
        ),
    )
    admin.put_object(Bucket="open-data", Key="weather/2024.csv", Body=BODY, ACL="public-read")
    admin.create_bucket(Bucket="private-data")
    admin.put_object(Bucket="private-data", Key="x.csv", Body=BODY)
    yield endpoint
    server.stop()


def _entry(folder: Path, sha: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weather.yaml").write_text(
        "Name: Weather\nDescription: Station temperatures.\nLicense: CC0-1.0\n"
        "Resources:\n  - Description: bucket\n    ARN: arn:aws:s3:::open-data\n"
        "    Region: us-east-1\n    Type: S3 Bucket\n"
        "Modelyard:\n  Size: 30 KB\n  Schema: {station: str, temp: int}\n  Files:\n"
        "    - Url: s3://open-data/weather/2024.csv\n" + (f"      Sha256: {sha}\n" if sha else "")
    )


def _counting_client(endpoint: str, calls: Counter[str]) -> Any:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )

    def count(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.s3.*", count)
    return client


def test_s3_import_is_cached_and_verified(s3: str, tmp_path: Path) -> None:
    settings = Settings.load(
        {}, home=tmp_path / "ws", records_uri="memory://", blobs_uri="memory://"
    )
    ws = open_workspace(settings, env={"MODELYARD_USER": "importer"}, create=True)
    calls: Counter[str] = Counter()
    fetcher = Fetcher(ws.records, ws.content, s3_client=_counting_client(s3, calls), backoff_s=0.01)
    _entry(tmp_path / "e", sha=None)
    catalog = CatalogService(ws.datasets, fetcher, ws.guard, extra_dirs=[tmp_path / "e"])

    first = catalog.import_("weather")
    assert first.downloaded
    assert first.version.rows == 3000
    assert first.version.attribution is not None
    assert first.version.attribution["sha256"] == SHA
    assert first.version.attribution["source"] == "s3://open-data/weather/2024.csv"
    assert calls == Counter({"HeadObject": 1, "GetObject": 1})

    second = catalog.import_("weather")
    assert not second.downloaded
    assert second.version.version == first.version.version
    assert calls["GetObject"] == 1  # unchanged ETag: no second download

    _entry(tmp_path / "e", sha="0" * 64)
    ws.records.delete("catalog#cache", "s3://open-data/weather/2024.csv")
    with pytest.raises(ChecksumMismatchError):
        catalog.import_("weather", name="weather-bad")
    assert [d["name"] for d in ws.datasets.list_datasets()] == ["weather"]


def test_s3_missing_key_is_not_found(s3: str, tmp_path: Path) -> None:
    settings = Settings.load(
        {}, home=tmp_path / "ws", records_uri="memory://", blobs_uri="memory://"
    )
    ws = open_workspace(settings, env={}, create=True)
    fetcher = Fetcher(ws.records, ws.content, s3_endpoint_url=s3, backoff_s=0.01)
    with pytest.raises(NotFoundError):
        fetcher.fetch("s3://open-data/weather/1999.csv", tmp_path)
    with pytest.raises(InvalidInputError, match="not public"):
        fetcher.fetch("s3://private-data/x.csv", tmp_path)
