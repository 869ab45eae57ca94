"""An S3-compatible server for the image tests: moto in server mode on a free port of this machine,
reached through the real boto3 and django-storages (nothing of ours is mocked)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@pytest.fixture(scope="session")
def aws_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def s3_media(aws_server: str, aws_credentials: None, settings: Any) -> Any:
    """MEDIA_STORAGE=s3 against a fresh bucket on the local server; returns a boto3 Bucket to look in."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3 = boto3.resource("s3", endpoint_url=aws_server, region_name=REGION)
    s3.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = aws_server
    settings.AWS_S3_REGION_NAME = REGION
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storefront.images.storage.TenantS3Storage"}}
    return s3.Bucket(bucket)


def keys(bucket: Any) -> list[str]:
    return sorted(item.key for item in bucket.objects.all())
