"""`communis accounts check`: can each account be read, with the credential it names?

One cheap request per account (the connector's `probe`), with few retries, and a message a
records manager can act on: which variable is missing, which token the platform refused,
which handle it does not know, which host cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from schemas import Account, HarvestState

from .. import clock
from ..config import Settings
from ..connectors.base import HarvestContext
from ..connectors.credentials import SecretResolver
from ..connectors.registry import connector_for
from ..errors import AuthExpired, CommunisError, Gone, PayloadInvalid
from .runner import open_fetcher


@dataclass(frozen=True)
class AccessCheck:
    account: str
    platform: str
    ok: bool
    message: str


def _advice(account: Account, exc: CommunisError) -> str:
    line = exc.one_line()
    if isinstance(exc, AuthExpired) and account.credentials is not None:
        where = account.credentials.env or f"Prefect Secret {account.credentials.prefect_secret}"
        return f"{line} — check the credential in {where}"
    if isinstance(exc, Gone):
        return f"{line} — check the handle {account.handle!r} and base_url"
    return line


def check_access(
    settings: Settings,
    account: Account,
    *,
    resolve_secret: SecretResolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> AccessCheck:
    """Probe one account; never raises for the account's own problems."""
    platform = account.platform.value
    try:
        connector = connector_for(platform)
        quick = settings.model_copy(update={"http_max_tries": 2})
        with open_fetcher(quick, account, connector, resolve_secret=resolve_secret, transport=transport) as fetcher:
            ctx = HarvestContext(account, HarvestState(account=account.id), fetcher, clock.now())
            try:
                described = connector.probe(ctx)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise PayloadInvalid(
                    f"unexpected answer from {account.api_base} ({type(exc).__name__}: {exc})"
                ) from exc
        return AccessCheck(account.id, platform, True, described)
    except CommunisError as exc:
        return AccessCheck(account.id, platform, False, _advice(account, exc))
    except httpx.HTTPError as exc:
        return AccessCheck(account.id, platform, False, f"cannot reach {account.api_base}: {exc}")
