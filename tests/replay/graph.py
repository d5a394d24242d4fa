"""Replaying python-facebook's recorded Graph API answers to the Facebook and Instagram connectors.

`replay` serves one harvest: `routes` maps a Graph path (without its version prefix) to the
recorded pages of that path in the order the recording chains them, or to a composed body. A later
page is asked for by the recorded `paging.next` URL, which carries `after=` or `__paging_token=`.
A thread (comments, replies) that was never recorded is answered with the recorded Graph error
`error.json` (code 100, HTTP 400), which the connector must quarantine for that thread alone;
media hosts (fbcdn.net, cdninstagram.com) are not in the recordings and answer 404. Recorded URLs
name graph.facebook.com: `ToLoopback` sends them to the replay server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas import Account, CredentialRef
from tests.driving import Outcome, drive
from tests.replay.loopback import HOST_HEADER, ToLoopback
from tests.replay.server import RECORDINGS, Answer, Asked, serving

TESTDATA = RECORDINGS / "facebook" / "testdata"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
_VERSION = re.compile(r"^/v\d+\.\d+")
_MEDIA_HOSTS = ("fbcdn.net", "cdninstagram.com")


def graph_path(asked: Asked) -> str | None:
    """The Graph path of an API request without its version prefix; None for a media host."""
    if asked.headers.get(HOST_HEADER, "").endswith(_MEDIA_HOSTS):
        return None
    return _VERSION.sub("", asked.path)


def replay(
    platform: str,
    handle: str,
    routes: Mapping[str, list[Path] | Any],
    monkeypatch: pytest.MonkeyPatch,
    *,
    threads: tuple[str, ...],
) -> tuple[Outcome, list[Asked]]:
    """Harvest `handle` on `platform` with `routes`; paths ending in one of `threads` that are not
    routed answer the recorded Graph error. The harvest must end (records and quarantine)."""
    token_env = f"COMMUNIS_REPLAY_{platform.upper()}_TOKEN"
    monkeypatch.setenv(token_env, "replay-token")
    error = Answer(400, (TESTDATA / "error.json").read_bytes())

    def answer(asked: Asked) -> Answer | None:
        path = graph_path(asked)
        if path is None:
            return None
        pages = routes.get(path)
        if pages is None:
            return error if path.endswith(threads) else None
        if not isinstance(pages, list):
            return Answer.json(pages)
        later = asked.param("after") is not None or asked.param("__paging_token") is not None
        return Answer.file(pages[1] if later and len(pages) > 1 else pages[0])

    with serving(answer) as server:
        account = Account(
            id=f"replay-{platform}",
            platform=platform,
            handle=handle,
            display_name="Replay",
            department="Test",
            retention_class="social-10y",
            base_url=f"{server.base_url}/v21.0",
            credentials=CredentialRef(env=token_env),
        )
        outcome = drive(account, NOW, ToLoopback(server.base_url))
    assert outcome.kind == "parsed", outcome.crash or outcome.error or outcome.trace
    return outcome, server.asked
