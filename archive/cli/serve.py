"""`communis serve`: the web application and HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from ..access.migrate import pending
from ..config import get_settings
from ..errors import CommunisError
from .common import err, fail

app = typer.Typer()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Start the web application and HTTP API (every page and call needs a user; see `communis user add`)."""
    # uvicorn and the web application (FastAPI, templates; given to uvicorn by name) are needed by this
    # command only: imported here, so every other command starts without them.
    import uvicorn

    from ..access.oidc import OidcSettings

    try:
        settings = get_settings()
        sso = OidcSettings.load()  # single sign-on's settings and its secret: a mistake is one line here,
        if sso.enabled:  # not a traceback from inside uvicorn
            sso.client_secret()
    except CommunisError as exc:
        fail(exc)
    left = pending(settings)
    if left is not None:  # signing in would fail for every user the old file holds, with no reason given
        err.print(
            f"warning: the users of an earlier release are still in {left}, which is not read any more: "
            "run `communis user migrate` (until then they cannot sign in)",
            highlight=False,
            markup=False,
        )
    err.print(f"Communis on http://{host}:{port}/  (API: /api, description: /openapi.json)", highlight=False)
    uvicorn.run(
        "archive.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
    )
