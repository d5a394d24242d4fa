"""Helpers shared by the simulator tests (walking Link headers, resolving the account)."""

from __future__ import annotations

from typing import Any

import httpx


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
