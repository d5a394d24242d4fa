"""Account credentials: read from where the account entry says, never stored anywhere else.

Environment variables are read here. Prefect Secret blocks are read by the flow (archive/
never imports Prefect) and handed in as a resolver. The token only ever lives in the HTTP
client's headers; the WARC writer and the log filter redact it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from schemas import Account

from ..errors import AuthExpired

SecretResolver = Callable[[str], str]


def token_for(account: Account, resolve_secret: SecretResolver | None = None) -> str | None:
    """The account's token, or None for public access; a named but missing secret is an error."""
    ref = account.credentials
    if ref is None:
        return None
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise AuthExpired(
                f"account {account.id}: environment variable {ref.env} is not set",
                hint=f"export {ref.env}=<token> for the harvest worker",
            )
        return value
    assert ref.prefect_secret is not None
    if resolve_secret is None:
        raise AuthExpired(
            f"account {account.id}: Prefect Secret {ref.prefect_secret!r} needs a Prefect run",
            hint="run the harvest as a Prefect flow, or use an environment variable",
        )
    return resolve_secret(ref.prefect_secret)
