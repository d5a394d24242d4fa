"""Who acts from the command line: the user an API token names, never a name anyone can type.

`communis login NAME` signs in with the password through `signin.SignIn` (the same throttle,
lockouts and audit events as the web's sign-in form), makes an API token with a short lifetime and
keeps it in the user's own config (`$XDG_CONFIG_HOME/communis/token`, else
`~/.config/communis/token`), folder 0700 and file 0600 from creation; `communis logout` revokes
that token and removes the file. `COMMUNIS_TOKEN` in the environment overrides the file (for
scripts, with a token made by `communis user token new`). Every state-changing command resolves
its user with `signed_in_user`: the token looked up in the user store, refused when unknown,
revoked, expired or its user disabled, so an audit event, a hold release or a signature on a
disposal list names a person who proved who they are.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from schemas import User

from ..config import Settings
from ..errors import AuthenticationFailed
from .admin import add_token, revoke_token
from .audit import open_audit
from .settings import access_settings
from .signin import SignIn
from .users import TOKEN_ID_LENGTH, open_users, token_digest

TOKEN_ENV = "COMMUNIS_TOKEN"
#: Days a token made by `communis login` is valid unless told: a working session, not a standing key.
LOGIN_TOKEN_DAYS = 1
_HINT = "sign in with `communis login NAME` (or set COMMUNIS_TOKEN)"


class NotSignedIn(AuthenticationFailed):
    """No token, or one the user store refuses (unknown, revoked, expired, user disabled)."""


def token_file() -> Path:
    """Where `communis login` keeps the token: the user's config folder (XDG), never the archive's data."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "communis" / "token"


def os_login() -> str:
    """The OS login, kept beside the user name in a sign-in's client field (never used as an identity)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def save_token(token: str, path: Path | None = None) -> Path:
    """Write the token 0600 (folder 0700), never readable by others even briefly: a new file made with its
    mode, then renamed over the old one."""
    path = path or token_file()
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class StoredToken:
    token: str
    source: str  # "COMMUNIS_TOKEN" or the token file's path


def stored_token() -> StoredToken | None:
    """`COMMUNIS_TOKEN`, else the token file; a token file others can read is refused (as ssh does)."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return StoredToken(env, TOKEN_ENV)
    path = token_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & 0o077:
        raise NotSignedIn(
            f"{path} is readable by other users, so its token is not used", hint=f"chmod 600 {path}, or log in again"
        )
    token = path.read_text(encoding="ascii", errors="replace").strip()
    return StoredToken(token, str(path)) if token else None


def signed_in_user(settings: Settings) -> User:
    """The enabled user the CLI's token belongs to; NotSignedIn (one line, hint `communis login`) otherwise."""
    found = stored_token()
    if found is None:
        raise NotSignedIn("not signed in", hint=_HINT)
    try:
        return open_users(settings).user_for_token(found.token)
    except AuthenticationFailed as exc:
        raise NotSignedIn(f"the token in {found.source} is refused: {exc}", hint=_HINT) from None


def login(settings: Settings, name: str, password: str, *, days: int = LOGIN_TOKEN_DAYS) -> tuple[User, Path]:
    """Sign in (throttled, audited), make a token valid `days` and keep it in the token file."""
    users, audit = open_users(settings), open_audit(settings)
    # counted per OS login: one local user's typos must not lock every other user out of the CLI
    user = SignIn(users, audit, access_settings())(name, password, client=f"cli:{os_login()}", target="communis login")
    token = add_token(settings, user.name, days=days, by=user, client="cli")
    return user, save_token(token)


def logout(settings: Settings) -> str | None:
    """Revoke the token in the token file (if still valid) and remove the file; returns the user's name."""
    path = token_file()
    name = None
    if path.exists():
        token = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            user = open_users(settings).user_for_token(token)
        except AuthenticationFailed:
            user = None  # already revoked or expired: nothing left to revoke
        if user is not None:
            revoke_token(settings, user.name, token_digest(token)[:TOKEN_ID_LENGTH], by=user, client="cli")
            name = user.name
        path.unlink()
    return name
