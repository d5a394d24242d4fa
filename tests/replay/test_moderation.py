"""The connectors' moderation lists against what real servers answered SDK test suites.

Each test drives `moderation_lists` (`tests.driving.drive(lists_only=True)`, as the harvest service runs
it) over loopback HTTP, answered from `tests/recordings/`, and compares the list record with a plain
reading of the same JSON here. What no recording holds is composed, and said so where it is:

* Mastodon (Mastodon.py's cassettes, a real Mastodon 4.6.4): `GET /api/v1/blocks`, `/mutes` and
  `/domain_blocks` are served byte for byte with their headers (the test account had none: `[]`, no
  `Link`); `GET /api/v2/filters` was not recorded, so it is answered with a list of the Filter objects
  the server sent in `test_v2_filters_keywords.yaml` (its answers to the filter's creation and update).
* Bluesky (atproto.dart's recorded AppView answers): `getBlocks`, `getMutes`, `getListBlocks` as
  recorded; each carries a `cursor` whose next page was not recorded, answered with the empty page the
  AppView gives at the end (`{"blocks": []}` …). The account's DID document (where its PDS is) is
  composed: the PLC directory's shape, naming bsky.social.
* X (tweepy's cassettes, 2022): the recorded `GET /2/users/:id/muting` answer; `blocking` was not
  recorded in API v2 (tweepy's `.json` block cassettes are v1.1), so it answers 404 here, which must
  be a note and no record, not a failed run.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from archive.connectors.bluesky import BlueskyConnector
from schemas import Account, CredentialRef, HarvestState, ModerationEntry, Record
from tests.driving import Outcome, drive
from tests.replay.loopback import ToLoopback
from tests.replay.server import RECORDINGS, Answer, Asked, serving

TOKEN_ENV = "COMMUNIS_REPLAY_MODERATION_TOKEN"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
MASTODON = RECORDINGS / "mastodon" / "tests" / "cassettes"
BLUESKY = RECORDINGS / "bluesky-dart" / "packages" / "bluesky" / "test" / "src" / "services" / "suite" / "app" / "bsky"
X = RECORDINGS / "x-tweepy" / "cassettes"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "replay-token")


def account(platform: str, handle: str, base_url: str) -> Account:
    return Account(
        id=f"replay-{platform}",
        platform=platform,
        handle=handle,
        display_name="Replayed account",
        department="Kommunstyrelsen",
        retention_class="social-10y",
        base_url=base_url,
        credentials=CredentialRef(env=TOKEN_ENV),
    )


def by_list(outcome: Outcome) -> dict[str, Record]:
    assert outcome.kind == "parsed", (outcome.error, outcome.crash, outcome.trace)
    assert all(r.kind.value == "moderation" and r.direction.value == "upprattad" for r in outcome.records)
    return {r.item_id: r for r in outcome.records}


def entries_of(record: Record) -> list[ModerationEntry]:
    assert record.moderation is not None, record.item_id
    return record.moderation.entries


def interactions(path: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = yaml.safe_load(path.read_text())["interactions"]
    return found


def body_of(response: dict[str, Any]) -> bytes:
    body = response["body"]["string"]
    raw = body if isinstance(body, bytes) else body.encode()
    return zlib.decompress(raw, 47) if raw[:2] == b"\x1f\x8b" else raw


# ---- Mastodon ----------------------------------------------------------------------------------------
def _mastodon_answer(cassette: str) -> Answer:
    """The cassette's one GET answer, body and headers as the server sent them."""
    (one,) = [i for i in interactions(MASTODON / cassette) if i["request"]["method"] == "GET"]
    response = one["response"]
    headers = {k: v[0] for k, v in response["headers"].items() if k.lower() not in ("content-length",)}
    return Answer(response["status"]["code"], body_of(response), headers)


def _recorded_filters() -> list[dict[str, Any]]:
    """The Filter objects the server sent while the suite created and updated one filter (the last state of each id)."""
    latest: dict[str, dict[str, Any]] = {}
    for one in interactions(MASTODON / "test_v2_filters_keywords.yaml"):
        body = json.loads(body_of(one["response"]) or b"null")
        if isinstance(body, dict) and "keywords" in body and "title" in body:
            latest[body["id"]] = body
    return list(latest.values())


def test_mastodon_lists_as_a_real_server_answered_them() -> None:
    filters = _recorded_filters()
    assert filters, "the cassette holds a Filter object"
    answers = {
        "/api/v1/blocks": _mastodon_answer("test_blocks.yaml"),
        "/api/v1/mutes": _mastodon_answer("test_mutes.yaml"),
        "/api/v1/domain_blocks": _mastodon_answer("test_domain_blocks.yaml"),
        "/api/v2/filters": Answer.json(filters, headers={"Content-Type": "application/json; charset=utf-8"}),
    }

    def routes(asked: Asked) -> Answer | None:
        return answers.get(asked.path)

    with serving(routes) as replay:
        outcome = drive(
            account("mastodon", "@admin", replay.base_url), NOW, ToLoopback(replay.base_url), lists_only=True
        )
    lists = by_list(outcome)
    assert set(lists) == {"blocks", "mutes", "domain_blocks", "filters"} and outcome.notes == []
    for name in ("blocks", "mutes", "domain_blocks"):  # recorded empty: an empty list is a fact, kept
        assert entries_of(lists[name]) == []
        assert lists[name].text.endswith(": 0")
    entries = entries_of(lists["filters"])
    expected = sorted(
        (f["title"], f"{f['id']}/{k['id']}", k["keyword"], k["whole_word"], f["filter_action"], tuple(f["context"]))
        for f in filters
        for k in f["keywords"]
    )
    assert sorted((e.title, e.id, e.keyword, e.whole_word, e.action, tuple(e.context)) for e in entries) == expected
    for _, _, keyword, *_ in expected:
        assert f'"{keyword}"' in lists["filters"].text
    assert all(asked.headers.get("authorization") == "Bearer replay-token" for asked in replay.asked)


# ---- Bluesky -----------------------------------------------------------------------------------------
VIEWER = "did:plc:iijrtk7ocored6zuziwmqq3c"  # whose block records the recorded answers name


def test_bluesky_lists_as_the_appview_answered_them(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = {
        m: json.loads((BLUESKY / "graph" / f"{m}.json").read_text()) for m in ("getBlocks", "getMutes", "getListBlocks")
    }
    keys = {"getBlocks": "blocks", "getMutes": "mutes", "getListBlocks": "lists"}

    def routes(asked: Asked) -> Answer | None:
        if asked.path == f"/plc/{VIEWER}":
            service = {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "https://bsky.social",
            }
            return Answer.json({"id": VIEWER, "service": [service]})
        method = asked.path.removeprefix("/xrpc/app.bsky.graph.")
        if method not in recorded or asked.headers.get("x-replay-host") != "bsky.social":
            return None
        if asked.param("cursor"):  # the page after the recorded one: the AppView's end of a list
            return Answer.json({keys[method]: []}) if asked.param("cursor") == recorded[method]["cursor"] else None
        return Answer.file(BLUESKY / "graph" / f"{method}.json")

    with serving(routes) as replay:
        monkeypatch.setattr(BlueskyConnector, "plc_directory", replay.base_url + "/plc")
        state = HarvestState(account="replay-bluesky", cursor={"did": VIEWER})
        outcome = drive(
            account("bluesky", "shinyakato.dev", replay.base_url),
            NOW,
            ToLoopback(replay.base_url),
            state=state,
            lists_only=True,
        )
    lists = by_list(outcome)
    assert set(lists) == {"blocks", "mutes", "list_blocks"} and outcome.notes == []
    for name, key in (("blocks", "getBlocks"), ("mutes", "getMutes")):
        shown = recorded[key][keys[key]]
        got = entries_of(lists[name])
        assert sorted((e.id, e.handle, e.name) for e in got) == sorted(
            (p["did"], p["handle"], p["displayName"]) for p in shown
        )
        assert all(f"@{p['handle']}" in lists[name].text for p in shown)
    shown_lists = recorded["getListBlocks"]["lists"]
    got_lists = entries_of(lists["list_blocks"])
    assert sorted((e.id, e.title, e.handle) for e in got_lists) == sorted(
        (x["uri"], x["name"], x["creator"]["handle"]) for x in shown_lists
    )
    # The session went to the PDS alone, never to the PLC directory.
    for asked in replay.asked:
        sent = asked.headers.get("authorization")
        assert (sent == "Bearer replay-token") == asked.path.startswith("/xrpc/"), (asked.path, sent)


# ---- X -----------------------------------------------------------------------------------------------
def test_x_mutes_as_recorded_and_an_unrecorded_block_list_is_a_note() -> None:
    (one,) = [
        i
        for i in interactions(X / "test_client_mute_get_muted_and_unmute.yaml")
        if i["request"]["method"] == "GET" and i["request"]["uri"].endswith("/muting")
    ]
    user_id = one["request"]["uri"].split("/users/")[1].split("/")[0]
    muted = json.loads(body_of(one["response"]))

    def routes(asked: Asked) -> Answer | None:
        if asked.path == f"/2/users/{user_id}/muting":
            return Answer.json(muted)
        return None

    with serving(routes) as replay:
        state = HarvestState(account="replay-x", cursor={"user_id": user_id})
        outcome = drive(
            account("x", "TwitterDev", replay.base_url), NOW, ToLoopback(replay.base_url), state=state, lists_only=True
        )
    lists = by_list(outcome)
    assert set(lists) == {"mutes"}
    got = entries_of(lists["mutes"])
    assert [(e.id, e.handle, e.name) for e in got] == [(u["id"], u["username"], u["name"]) for u in muted["data"]]
    (note,) = outcome.notes
    assert note.startswith("x blocks: not read:") and "HTTP 404" in note
