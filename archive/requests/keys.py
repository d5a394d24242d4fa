"""The installation's key for masking decisions: an HMAC key that never leaves the data directory.

A masking decision says which value was covered without holding the value, by a digest of it.
An unsalted SHA-256 does not do that safely: a personnummer has a few million valid forms, so
whoever holds the decision finds the number by hashing them all in seconds. An HMAC under a key
only the installation holds cannot be tested without the key; the authority (which has the key)
can still show in an appeal that a given value is the one it masked.

The key is 32 random bytes in `{data_dir}/secrets/request-masking.key`, made on first use with
mode 0600 in a 0700 folder, and written in one step (a temporary file linked into place), so two
exports starting at once agree on one key and none ever reads a half-written one. It is read,
never logged, and never written into a package, the index or an audit note. A key file other
local users could read is refused rather than used: its secrecy is the whole point.
Back it up with the installation: without it the digests in earlier decisions cannot be checked.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError

KEY_FILE = Path("secrets") / "request-masking.key"
KEY_BYTES = 32


def key_path(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made the key first: then theirs is the key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def masking_key(settings: Settings) -> bytes:
    """The installation's key, made on first use; refused if other users could read it."""
    path = key_path(settings)
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the request masking key {path} is open to other users (mode {stat.S_IMODE(mode):04o})",
            hint=f"chmod 600 {path}",
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigError(f"the request masking key {path} is not {KEY_BYTES} bytes", hint="restore it from backup")
    return key


def seal(key: bytes, value: str) -> str:
    """HMAC-SHA256 of the value's UTF-8 bytes under the installation's key, in hex."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


__all__ = ["KEY_FILE", "key_path", "masking_key", "seal"]
