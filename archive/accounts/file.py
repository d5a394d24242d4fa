"""Loading the accounts file, with errors that name the file, the entry and the field."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas import Account, AccountsFile

from ..config import Settings
from ..errors import ConfigError


def _describe(path: Path, raw: Any, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = str(path)
        if len(loc) >= 2 and loc[0] == "accounts" and isinstance(loc[1], int):
            entry = loc[1]
            name = None
            with suppress(KeyError, IndexError, TypeError, AttributeError):
                name = raw["accounts"][entry].get("id")
            where += f": account #{entry + 1}" + (f" ({name})" if name else "")
            loc = loc[2:]
        message = str(err["msg"]).removeprefix("Value error, ")
        if loc:
            lines.append(f"{where}: field '{'.'.join(str(p) for p in loc)}': {message}")
        else:
            lines.append(f"{where}: {message}")
    return "; ".join(lines)


def load_accounts(path: Path, settings: Settings | None = None) -> list[Account]:
    """Parse and validate the accounts YAML; retention classes must exist in settings."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: accounts file not found", hint="pass --accounts or set COMMUNIS_ACCOUNTS_FILE"
        ) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{at}") from exc
    if not isinstance(raw, dict) or "accounts" not in raw:
        raise ConfigError(f"{path}: expected a mapping with an 'accounts' list")
    try:
        accounts = AccountsFile.model_validate(raw).accounts
    except ValidationError as exc:
        raise ConfigError(_describe(path, raw, exc)) from exc
    if settings is not None:
        for i, account in enumerate(accounts):
            try:
                settings.retention_class(account.retention_class)
            except ConfigError as exc:
                raise ConfigError(
                    f"{path}: account #{i + 1} ({account.id}): field 'retention_class': {exc}", hint=exc.hint
                ) from exc
    return accounts
