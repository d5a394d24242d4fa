"""`communis index setup`: the administrative step a secured cluster needs once per release.

It puts the templates of the append-only audit and PREMIS streams (archive/index/streams.py),
which no credential the application runs with may put. Run it with the cluster's admin
credential in the environment (`COMMUNIS_ES_USERNAME`/`COMMUNIS_ES_PASSWORD` or
`COMMUNIS_ES_API_KEY`); `scripts/services up` does it for the local node.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..config import get_settings
from ..errors import CommunisError
from ..index.client import make_client, translate
from ..index.streams import prepare
from ..services.es_access import ROLES
from .common import console, fail

app = typer.Typer(help="Administer the Elasticsearch side of the archive (admin credential).")


@app.command("setup")
def index_setup(
    roles: Annotated[
        bool, typer.Option("--roles", help="Also create the application's roles (communis_harvester, communis_web).")
    ] = False,
) -> None:
    """Put the audit and PREMIS stream templates (idempotent); with --roles, the roles too."""
    settings = get_settings()
    es = make_client(settings)
    try:
        names = prepare(es)
        if roles:
            for name, body in ROLES.items():
                with translate(f"create the role {name} (needs the admin credential)"):
                    es.security.put_role(name=name, cluster=body["cluster"], indices=body["indices"])
                names.append(f"role {name}")
    except CommunisError as exc:
        fail(exc)
    finally:
        es.close()
    console.print(f"put {', '.join(names)} on {settings.es_url}")
