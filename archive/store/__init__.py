"""Blob storage: a local directory (embedded default) or S3 with Object Lock."""

from __future__ import annotations

from ..config import Settings
from .base import BlobStore, StoredObject, sha256_file
from .local import LocalStore
from .s3 import S3Store


def open_store(settings: Settings) -> BlobStore:
    """The store the settings name."""
    if settings.store == "s3":
        return S3Store(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key=settings.s3_access_key.get_secret_value() if settings.s3_access_key else None,
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            multipart_threshold=settings.s3_multipart_threshold,
            prefix=settings.s3_prefix,
            timeout=settings.s3_timeout_seconds,
            max_attempts=settings.s3_max_attempts,
        )
    return LocalStore(settings.store_path)


def open_disposal_store(settings: Settings) -> BlobStore | None:
    """The S3 store as the disposal role (`s3_disposal_*`): the one credential that may delete object
    versions, used for nothing but the deletions of an approved list. None when none is configured
    (a local store, or one S3 key for everything)."""
    if settings.store != "s3" or settings.s3_disposal_access_key is None or settings.s3_disposal_secret_key is None:
        return None
    return open_store(
        settings.model_copy(
            update={"s3_access_key": settings.s3_disposal_access_key, "s3_secret_key": settings.s3_disposal_secret_key}
        )
    )


__all__ = ["BlobStore", "LocalStore", "S3Store", "StoredObject", "open_disposal_store", "open_store", "sha256_file"]
