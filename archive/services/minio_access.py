"""Who may do what on the local MinIO: one user per role with its IAM policy, made by `services up`.

The root user only runs this setup. What each role may do on the archive bucket:

- `communis-harvester` (harvest, ingest, the CLI): read and write objects, set retention and legal
  holds on what it stores (new files under an active hold get one). No `s3:DeleteObjectVersion`,
  so it can destroy no stored version.
- `communis-web` (`communis serve`): the same reads, writes the objects legal staff make (hold
  objects, request packages), places and releases legal holds.
- `communis-disposal` (the deletions of an approved disposition list, nothing else): reads, and
  `s3:DeleteObjectVersion`, which Object Lock still refuses before a version's retain-until date
  or while it is under a legal hold. It may write nothing, so it cannot first shorten a lock:
  MinIO lets anyone with `s3:PutObjectRetention` shorten a GOVERNANCE date by sending the bypass
  header, whatever the policy says of `s3:BypassGovernanceRetention` (docs/security.md).

Nobody the application runs as has `s3:BypassGovernanceRetention` (explicitly denied, so a
GOVERNANCE lock binds it like a COMPLIANCE one), nor any bucket-level write (lock configuration,
versioning, policy, deleting the bucket).

MinIO's admin API takes users' secrets encrypted with the root password (madmin's format):
salt(32) ‖ algorithm id ‖ nonce(8) ‖ a sio-go (DARE 2.0) stream. This module writes the
PBKDF2-SHA256 + AES-256-GCM variant, which every MinIO server accepts, for bodies under one
16 KiB fragment.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx

from ..errors import ServiceError

HARVESTER = "communis-harvester"
WEB = "communis-web"
DISPOSAL = "communis-disposal"
ROLES = (HARVESTER, WEB, DISPOSAL)

_READ = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectRetention",
    "s3:GetObjectLegalHold",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketLocation",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketVersioning",
    "s3:ListMultipartUploadParts",
    "s3:ListBucketMultipartUploads",
]
_WRITE = ["s3:PutObject", "s3:PutObjectRetention", "s3:PutObjectLegalHold", "s3:AbortMultipartUpload"]
_NEVER = [
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucket",
    "s3:PutLifecycleConfiguration",
]

_FRAGMENT = 1 << 14
_PBKDF2_AES_GCM = 0x02
_PBKDF2_COST = 8192


def policy(role: str, buckets: tuple[str, ...]) -> dict[str, Any]:
    """The IAM policy document of `role` on `buckets`."""
    objects = [f"arn:aws:s3:::{b}/*" for b in buckets]
    whole = [f"arn:aws:s3:::{b}" for b in buckets]
    actions = _READ + (["s3:DeleteObjectVersion", "s3:DeleteObject"] if role == DISPOSAL else _WRITE)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": objects + whole},
            {"Effect": "Deny", "Action": _NEVER, "Resource": objects + whole},
            *(
                []
                if role == DISPOSAL
                else [{"Effect": "Deny", "Action": ["s3:DeleteObjectVersion"], "Resource": objects}]
            ),
        ],
    }


def encrypt(password: str, data: bytes) -> bytes:
    """madmin's EncryptData (PBKDF2-SHA256 key, AES-256-GCM sio stream) for `data` of one fragment."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(data) >= _FRAGMENT:
        raise ValueError("madmin payloads here are small; a larger one needs sio's fragmenting")
    salt, nonce = os.urandom(32), os.urandom(8)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_COST, 32)
    aead = AESGCM(key)
    header_tag = aead.encrypt(nonce + (0).to_bytes(4, "little"), b"", b"")  # sio binds the stream's start
    sealed = aead.encrypt(nonce + (1).to_bytes(4, "little"), data, b"\x80" + header_tag)  # the final fragment
    return salt + bytes([_PBKDF2_AES_GCM]) + nonce + sealed


class Admin:
    """MinIO's admin API (v3) as the root user, signed with SigV4 like any S3 request."""

    def __init__(self, url: str, user: str, password: str, region: str) -> None:
        self.url, self.user, self.password, self.region = url.rstrip("/"), user, password, region

    def _call(self, method: str, path: str, params: dict[str, str], body: bytes, what: str) -> None:
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        address = f"{self.url}/minio/admin/v3/{path}?{urlencode(params)}"
        request = AWSRequest(method=method, url=address, data=body)
        S3SigV4Auth(Credentials(self.user, self.password), "s3", self.region).add_auth(request)
        try:
            resp = httpx.request(method, address, content=body, headers=dict(request.headers.items()), timeout=30)
        except httpx.HTTPError as exc:
            raise ServiceError(f"MinIO admin: {what} failed: {type(exc).__name__}") from exc
        if resp.status_code >= 300:
            raise ServiceError(f"MinIO admin: {what} refused: {resp.status_code} {resp.text[:200]}")

    def add_policy(self, name: str, document: dict[str, Any]) -> None:
        self._call("PUT", "add-canned-policy", {"name": name}, json.dumps(document).encode(), f"adding policy {name}")

    def add_user(self, name: str, secret: str) -> None:
        body = encrypt(self.password, json.dumps({"secretKey": secret, "status": "enabled"}).encode())
        self._call("PUT", "add-user", {"accessKey": name}, body, f"adding user {name}")

    def attach(self, user: str, policy_name: str) -> None:
        self._call(
            "PUT",
            "set-user-or-group-policy",
            {"policyName": policy_name, "userOrGroup": user, "isGroup": "false"},
            b"",
            f"attaching {policy_name} to {user}",
        )


def new_secrets() -> dict[str, str]:
    return {role: secrets.token_urlsafe(24) for role in ROLES}


def provision(admin: Admin, passwords: dict[str, str], buckets: tuple[str, ...]) -> None:
    """Create (or reset) each role's policy and user; idempotent."""
    for role in ROLES:
        admin.add_policy(role, policy(role, buckets))
        admin.add_user(role, passwords[role])
        admin.attach(role, role)
