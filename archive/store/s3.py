"""S3 blob store through boto3, with Object Lock retention and SHA-256 checksums.

Works with AWS S3, MinIO and Ceph RGW. The bucket must have Object Lock enabled (which
makes it versioned): each stored WARC gets a retain-until date in GOVERNANCE or COMPLIANCE
mode, so premature deletion is refused by the server, not by convention. Every upload
carries a SHA-256 checksum that the server verifies (per part for multipart uploads); the
whole-file SHA-256 is also kept as object metadata for fixity checks.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from schemas import LockMode

from ..errors import DigestMismatch, ObjectExists, ObjectLocked, ObjectMissing, StoreError, StoreUnavailable
from ..faults import CrashPoint, crash_point
from .base import StoredObject, must_extend

log = logging.getLogger(__name__)

_LOCKED_CODES = {"AccessDenied", "ObjectLocked", "InvalidRequest"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
_MIN_PART = 5 * 1024 * 1024
"""S3's smallest part (but the last); parts are an eighth of the multipart threshold, at least this."""


@contextmanager
def _translate(key: str, action: str) -> Iterator[None]:
    """botocore errors → Communis StoreError subclasses (the httpx map_exceptions pattern)."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        message = exc.response.get("Error", {}).get("Message", "")
        if code in _MISSING_CODES:
            raise ObjectMissing(f"{key} is not in the bucket") from exc
        if code in _LOCKED_CODES and action == "delete":
            raise ObjectLocked(f"{key}: S3 refused to {action} it ({code}: {message})") from exc
        if code in {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch"}:
            raise DigestMismatch(f"{key}: S3 rejected the upload's SHA-256 ({code})") from exc
        if code == "NoSuchBucket":
            raise StoreError(
                f"bucket for {key} does not exist",
                hint="create it with Object Lock enabled (`scripts/services up` does locally)",
            ) from exc
        raise StoreError(f"S3 {action} {key} failed: {code} {message}".strip()) from exc
    except EndpointConnectionError as exc:
        raise StoreUnavailable(f"S3 endpoint unreachable while trying to {action} {key}") from exc
    except (BotoConnectionError, HTTPClientError) as exc:
        # Reset or closed connections, timeouts, a body cut short: the service went away mid-request
        # (after botocore's retries), so callers keep their files for the next run as for a refused one.
        raise StoreUnavailable(f"S3 endpoint went away while trying to {action} {key}: {type(exc).__name__}") from exc
    except BotoCoreError as exc:
        raise StoreError(f"S3 {action} {key} failed: {exc}") from exc


def _error_body_as_bytes(response_dict: dict[str, Any], **_: Any) -> None:
    """Let botocore parse an S3 error that arrives with checksum headers.

    botocore wraps every GET body whose response carries an `x-amz-checksum-*` header in a
    checksum-validating stream, error responses too (after it has already read their bytes), and its
    error parser then fails with an AttributeError. MinIO sends those headers on the 503 it answers
    when it finds bitrot in an object on disk. An empty body makes it an ordinary error by status
    (retried, then a StoreError naming the status) instead of a crash.
    """
    if response_dict.get("status_code", 200) >= 300 and not isinstance(response_dict.get("body"), bytes):
        response_dict["body"] = b""


def _b64(sha256_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


class S3Store:
    """Objects in one S3 bucket with Object Lock."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        multipart_threshold: int = 64 * 1024 * 1024,
        max_concurrency: int = 8,
        prefix: str = "",
        timeout: float = 60,
        max_attempts: int = 5,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": max_attempts, "mode": "standard"},
                connect_timeout=min(5, timeout),
                read_timeout=timeout,
            ),
        )
        self.client.meta.events.register("before-parse.s3.GetObject", _error_body_as_bytes)
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(_MIN_PART, multipart_threshold // 8),
            max_concurrency=max_concurrency,
        )
        self._concurrency = max_concurrency

    def _k(self, key: str) -> str:
        """Bucket key for a store key (an optional prefix lets several archives share a bucket)."""
        return self.prefix + key

    def _lock_args(self, retain_until: datetime | None, lock_mode: LockMode | None) -> dict[str, Any]:
        if retain_until is None:
            return {}
        return {"ObjectLockMode": (lock_mode or LockMode.GOVERNANCE).value, "ObjectLockRetainUntilDate": retain_until}

    def _refuse_existing(self, key: str) -> None:
        if self.head(key) is not None:
            raise ObjectExists(f"{key} already exists in bucket {self.bucket}; stored files are never replaced")

    def put_file(
        self,
        key: str,
        path: Path,
        sha256: str,
        *,
        retain_until: datetime | None = None,
        lock_mode: LockMode | None = None,
        content_type: str = "application/octet-stream",
    ) -> StoredObject:
        self._refuse_existing(key)
        size = path.stat().st_size
        extra: dict[str, Any] = {
            "ContentType": content_type,
            "Metadata": {"sha256": sha256},
            **self._lock_args(retain_until, lock_mode),
        }
        with _translate(key, "upload"):
            if size < self.transfer.multipart_threshold:
                with path.open("rb") as fh:
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=self._k(key),
                        Body=fh,
                        ChecksumSHA256=_b64(sha256),
                        IfNoneMatch="*",
                        **extra,
                    )
            else:
                self._upload_parts(key, path, extra)
        return self._verified_head(key, size, sha256)

    def _upload_parts(self, key: str, path: Path, extra: dict[str, Any]) -> None:
        """Multipart upload, each part with its own SHA-256 that the server verifies.

        Parts go up `max_concurrency` at a time. Written out rather than left to boto3's transfer
        manager so that a crash between parts is a named point (STORE_MID_UPLOAD) and a failed
        upload is aborted here. An incomplete upload never becomes an object, so after a crash the
        key is still free and the next run uploads the whole file again; nothing half-stored is
        ever visible.
        """
        bucket_key = self._k(key)
        self._abort_leftovers(key)
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=bucket_key, ChecksumAlgorithm="SHA256", **extra
        )["UploadId"]

        def send(number: int, data: bytes) -> dict[str, Any]:
            digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
            sent = self.client.upload_part(
                Bucket=self.bucket,
                Key=bucket_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
                ChecksumSHA256=digest,
            )
            return {"PartNumber": number, "ETag": sent["ETag"], "ChecksumSHA256": digest}

        parts: list[dict[str, Any]] = []
        try:
            with ThreadPoolExecutor(max_workers=self._concurrency) as pool, path.open("rb") as fh:
                window: deque[Future[dict[str, Any]]] = deque()
                number = 0
                while data := fh.read(self.transfer.multipart_chunksize):
                    if len(window) >= self._concurrency:
                        parts.append(window.popleft().result())
                        crash_point(CrashPoint.STORE_MID_UPLOAD)  # more parts to come
                    number += 1
                    window.append(pool.submit(send, number, data))
                while window:
                    parts.append(window.popleft().result())
                    if window:
                        crash_point(CrashPoint.STORE_MID_UPLOAD)
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=bucket_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=bucket_key, UploadId=upload_id)
            except (BotoCoreError, ClientError) as exc:  # the next upload of this key aborts it
                log.warning("could not abort the multipart upload of %s: %s", key, exc)
            raise

    def _abort_leftovers(self, key: str) -> None:
        """Abort incomplete multipart uploads of `key` that a killed run left (their parts cost storage
        and never become an object). The key is unstored (checked before) and one account is harvested
        by one process at a time, so no upload of it can be in progress elsewhere."""
        bucket_key = self._k(key)
        listing = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=bucket_key)
        for upload in listing.get("Uploads", []):
            if upload.get("Key") == bucket_key:
                log.warning("aborting an incomplete upload of %s left by an interrupted run", key)
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=bucket_key, UploadId=upload["UploadId"])

    def put_bytes(
        self,
        key: str,
        data: bytes,
        *,
        retain_until: datetime | None = None,
        lock_mode: LockMode | None = None,
        content_type: str = "application/json",
    ) -> StoredObject:
        sha256 = hashlib.sha256(data).hexdigest()
        self._refuse_existing(key)
        with _translate(key, "upload"):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._k(key),
                Body=data,
                ChecksumSHA256=_b64(sha256),
                IfNoneMatch="*",
                ContentType=content_type,
                Metadata={"sha256": sha256},
                **self._lock_args(retain_until, lock_mode),
            )
        return self._verified_head(key, len(data), sha256)

    def _verified_head(self, key: str, size: int, sha256: str) -> StoredObject:
        found = self.head(key)
        if found is None or found.size != size or found.sha256 != sha256:
            raise DigestMismatch(f"{key}: the stored object does not match what was sent")
        return found

    def head(self, key: str) -> StoredObject | None:
        try:
            with _translate(key, "head"):
                meta = self.client.head_object(Bucket=self.bucket, Key=self._k(key))
        except ObjectMissing:
            return None
        mode = meta.get("ObjectLockMode")
        return StoredObject(
            key=key,
            size=int(meta["ContentLength"]),
            sha256=meta.get("Metadata", {}).get("sha256"),
            retain_until=meta.get("ObjectLockRetainUntilDate"),
            lock_mode=LockMode(mode) if mode else None,
            legal_hold=meta.get("ObjectLockLegalHoldStatus") == "ON",
            version_id=meta.get("VersionId"),
            location=f"s3://{self.bucket}/{self._k(key)}",
        )

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        with _translate(key, "read"):
            resp = self.client.get_object(
                Bucket=self.bucket, Key=self._k(key), Range=f"bytes={offset}-{offset + length - 1}"
            )
            return bytes(resp["Body"].read())

    def open(self, key: str) -> IO[bytes]:
        with _translate(key, "read"):
            return self.client.get_object(Bucket=self.bucket, Key=self._k(key))["Body"]  # type: ignore[no-any-return]

    def keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _translate(prefix, "list"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._k(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]

    def delete(self, key: str) -> None:
        """Delete every version (and delete marker); one locked version stops with ObjectLocked."""
        with _translate(key, "list"):
            listing = self.client.list_object_versions(Bucket=self.bucket, Prefix=self._k(key))
        versions = [
            v for v in listing.get("Versions", []) + listing.get("DeleteMarkers", []) if v["Key"] == self._k(key)
        ]
        if not versions:
            raise ObjectMissing(f"{key} is not in bucket {self.bucket}")
        for n, version in enumerate(versions):
            if n:  # one version gone, others of the same file not yet
                crash_point(CrashPoint.DISPOSE_BETWEEN_VERSIONS)
            with _translate(key, "delete"):
                self.client.delete_object(Bucket=self.bucket, Key=self._k(key), VersionId=version["VersionId"])

    def set_legal_hold(self, key: str, on: bool) -> None:
        with _translate(key, "hold"):
            self.client.put_object_legal_hold(
                Bucket=self.bucket, Key=self._k(key), LegalHold={"Status": "ON" if on else "OFF"}
            )

    def extend_retention(self, key: str, until: datetime) -> StoredObject:
        """A later Object Lock retain-until on the current version; refuses to shorten (the server would too,
        in COMPLIANCE mode; in GOVERNANCE mode only a bypass could, and Communis never asks for one)."""
        found = self.head(key)
        if found is None:
            raise ObjectMissing(f"{key} is not in bucket {self.bucket}")
        if not must_extend(key, found, until):
            return found
        mode = (found.lock_mode or LockMode.GOVERNANCE).value
        args: dict[str, Any] = {"VersionId": found.version_id} if found.version_id else {}
        with _translate(key, "extend retention of"):
            self.client.put_object_retention(
                Bucket=self.bucket, Key=self._k(key), **args, Retention={"Mode": mode, "RetainUntilDate": until}
            )
        extended = self.head(key)
        assert extended is not None
        return extended

    def check(self) -> None:
        with _translate(self.bucket, "inspect"):
            try:
                conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
                    raise StoreError(
                        f"bucket {self.bucket} has no Object Lock", hint="create a new bucket with Object Lock enabled"
                    ) from exc
                raise
        if conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise StoreError(
                f"bucket {self.bucket} has Object Lock disabled", hint="create a new bucket with Object Lock enabled"
            )
