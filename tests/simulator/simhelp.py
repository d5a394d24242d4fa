"""Helpers shared by the simulator tests (walking Link headers and page tokens, resolving the account, ground truth)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from simulator import Simulator
from simulator.httpcore import Request, Response
from tests.contract.subjects import SUBJECTS, TOKEN_ENV
from tests.driving import Outcome, drive


def account_id(http: httpx.Client, acct: str = "sundsvik") -> str:
    """Resolve a username to its account id, as a connector does first."""
    resp = http.get("/m/api/v1/accounts/lookup", params={"acct": acct})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def walk(http: httpx.Client, url: str, rel: str = "next") -> tuple[list[dict[str, Any]], int]:
    """Follow ``Link`` rel=next (or prev) until it is absent or a page is empty; (items, requests)."""
    items: list[dict[str, Any]] = []
    requests = 0
    next_url: str | None = url
    while next_url:
        resp = http.get(next_url)
        requests += 1
        assert resp.status_code == 200, resp.text
        page = resp.json()
        if not page:
            break
        items += page
        next_url = resp.links.get(rel, {}).get("url")
    return items, requests


def token_pages(
    http: httpx.Client, path: str, params: dict[str, Any], next_token: Callable[[Any], str | None], param: str
) -> list[Any]:
    """Every page body of a token-paged listing (X ``meta.next_token``, Google ``nextPageToken``): the
    token ``next_token(body)`` finds is sent back as ``param`` until there is none."""
    bodies: list[Any] = []
    query = dict(params)
    while True:
        resp = http.get(path, params=query)
        assert resp.status_code == 200, resp.text
        bodies.append(resp.json())
        token = next_token(bodies[-1])
        if token is None:
            return bodies
        query[param] = token


def truth(sim: Simulator, platform: str) -> list[dict[str, Any]]:
    """The simulator's ground truth for one platform: every post, comment and reply, deleted ones too."""
    rows: list[dict[str, Any]] = sim.state()["platforms"][platform]["items"]
    return rows


def first_harvest(sim: Simulator, platform: str, token: str, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    """A first harvest of the platform's account on `sim` (the contract suite's account, its credential
    `token`), run as the harvest service runs it; the harvest must end cleanly."""
    monkeypatch.setenv(TOKEN_ENV, token)
    subject = next(s for s in SUBJECTS if s.platform == platform)
    now = datetime.fromisoformat(sim.state(items=False)["now"].replace("Z", "+00:00"))
    outcome = drive(subject.account(sim), now)
    assert outcome.kind == "parsed", outcome.error or outcome.trace
    return outcome


def recording_answers(
    monkeypatch: pytest.MonkeyPatch, app: type[Any], keep: Callable[[str, Request, Response], None]
) -> None:
    """Have `keep(sub, request, response)` see every answer of the simulated platform `app` gives."""
    route = app.route

    def recording(self: Any, sub: str, req: Request, base: str) -> Response:
        response: Response = route(self, sub, req, base)
        keep(sub, req, response)
        return response

    monkeypatch.setattr(app, "route", recording)
