"""The FileStore port on S3 (AWS, Scaleway, OVH, MinIO, SeaweedFS…) through boto3.

``s3://bucket?endpoint=https://s3.example&region=eu-west-3[&presign=SECONDS]``; the keys come
from the standard AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, profiles…).
Objects are private (no ACL is ever granted); requests are signed with SigV4 and use path-style
addressing, which every S3-compatible server understands. Large files go up in parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from typing import BinaryIO
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portail_domain.model.errors import NotFound, StorageError
from portail_domain.model.files import StoredObject

from ..settings import url_options
from .local import CHUNK, check_key, is_key
from .naming import content_disposition

PART_SIZE = 8 * 1024 * 1024
MULTIPART_THRESHOLD = 16 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".strip()
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class S3FileStore:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        presign_seconds: int = 0,
        access_key: str | None = None,
        secret_key: str | None = None,
        connect_timeout: float = 3,
        read_timeout: float = 30,
        attempts: int = 2,
        page_size: int = 1000,
    ) -> None:
        self.bucket = bucket
        self.page_size = page_size
        self.presign_seconds = presign_seconds
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": attempts, "mode": "standard"},  # an unreachable S3 fails fast
        )
        self.session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key)
        self.client = self.session.client("s3", endpoint_url=endpoint or None, region_name=region or "us-east-1",
                                          config=config)
        # Up to 16 MB (every upload: 10 MB at most) one PUT streamed from the file; past that, parts
        # of 8 MB, one at a time (boto3 holds a part in memory while it sends it).
        self.transfer = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE,
                                       use_threads=False)

    @classmethod
    def from_url(cls, url: str) -> S3FileStore:
        """``s3://bucket?endpoint=…&region=…&presign=…`` (raises ValueError on a malformed URL)."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError("expected s3://bucket?endpoint=…&region=…")
        options = url_options(url)
        unknown = set(options) - {"endpoint", "region", "presign"}
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))} (expected endpoint, region, presign)")
        presign = options.get("presign", "0")
        if not presign.isdigit() or int(presign) > 3600:
            raise ValueError("presign is a number of seconds, at most 3600 (0: the portal streams files itself)")
        endpoint = options.get("endpoint")
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"endpoint {endpoint!r} is not an http(s):// URL")
        store = cls(parts.netloc, endpoint=endpoint, region=options.get("region"), presign_seconds=int(presign))
        if store.session.get_credentials() is None:
            raise ValueError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)")
        return store

    def put(self, key: str, data: BinaryIO, *, content_type: str, size: int | None = None) -> None:
        check_key(key)
        try:
            self.client.upload_fileobj(data, self.bucket, key, ExtraArgs={"ContentType": content_type},
                                       Config=self.transfer)
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            raise StorageError(f"cannot write {key} to s3://{self.bucket}: {_reason(exc)}") from exc

    def open(self, key: str) -> Iterator[bytes]:
        check_key(key)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFound(key=key) from None
            raise StorageError(f"cannot read {key} from s3://{self.bucket}: {_reason(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {key} from s3://{self.bucket}: {_reason(exc)}") from exc

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return chunks()

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot delete {key} from s3://{self.bucket}: {_reason(exc)}") from exc

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise StorageError(f"cannot reach s3://{self.bucket}: {_reason(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach s3://{self.bucket}: {_reason(exc)}") from exc

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """``ListObjectsV2`` page by page (``page_size`` keys a request, 1000 at most on S3): one page
        in memory at a time. Keys the portal could not have generated are not listed."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size})
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    if is_key(item["Key"]):
                        yield StoredObject(item["Key"], item["Size"], item["LastModified"].astimezone(UTC))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot list s3://{self.bucket}: {_reason(exc)}") from exc

    def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        """A presigned GET valid ``presign`` seconds that answers as an attachment; None when off."""
        if not self.presign_seconds:
            return None
        check_key(key)
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                  "ResponseContentDisposition": content_disposition(filename)}
        try:
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.presign_seconds)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot sign a link for {key}: {_reason(exc)}") from exc
